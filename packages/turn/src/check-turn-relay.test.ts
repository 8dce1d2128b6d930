import { describe, expect, it } from 'vitest';
import { untestableFromHere } from './check-turn-relay.ts';

const v4 = (address: string, port = 50000) => ({ family: 'IPv4' as const, address, port });

describe('untestableFromHere', () => {
  it('should call a lost probe untestable when this machine is the relay address (hairpin)', () => {
    expect(untestableFromHere(v4('45.67.89.10'), v4('45.67.89.10'))).toMatch(/hairpin/);
  });

  it('should call it untestable when coturn sees this machine at a private address', () => {
    expect(untestableFromHere(v4('192.168.1.20'), v4('45.67.89.10'))).toMatch(
      /private address 192\.168\.1\.20.*hairpin/,
    );
  });

  it('should keep it a failure from outside the network, and on a private relay', () => {
    expect(untestableFromHere(v4('81.2.69.160'), v4('45.67.89.10'))).toBeUndefined();
    expect(untestableFromHere(v4('127.0.0.1'), v4('127.0.0.1'))).toBeUndefined();
    expect(untestableFromHere(undefined, v4('45.67.89.10'))).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTurnRelay } from '../src/check-turn-relay.ts';
import { credentials, newSecret } from './coturn-helpers.ts';
import { type CoturnInstance, startCoturnInstance } from './coturn-instance.ts';

const CURRENT = newSecret();

describe('TurnClient against coturn over TLS (turns:)', () => {
  let coturn: CoturnInstance;

  beforeAll(async () => {
    coturn = await startCoturnInstance({ secrets: [CURRENT], allowLoopbackPeers: true, tls: true });
  });
  afterAll(async () => {
    await coturn.stop();
  });

  it('should allocate and relay through a turns: URI, trusting the server certificate', async () => {
    const tls = coturn.tls!;
    const result = await checkTurnRelay({
      uri: `turns:127.0.0.1:${tls.port}?transport=tcp`,
      ...credentials('@tls:example.org', CURRENT),
      tls: { ca: tls.cert },
    });
    expect(result).toMatchObject({ ok: true, step: 'done', protocol: 'tls' });
    expect(result.relayed?.address).toBe('127.0.0.1');
  });

  it('should fail at connect with a network error when the certificate is not trusted', async () => {
    const result = await checkTurnRelay({
      uri: `turns:127.0.0.1:${coturn.tls!.port}`,
      ...credentials('@tls:example.org', CURRENT),
    });
    expect(result).toMatchObject({ ok: false, step: 'connect' });
    expect(result.error).toMatchObject({ kind: 'network' });
    expect(result.error?.message).toMatch(/self-signed certificate/);
  });
});

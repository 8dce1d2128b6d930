import { describe, expect, it } from 'vitest';
import { isFullAccess, parseFullAccessList } from './full-access.ts';

describe('parseFullAccessList', () => {
  it('should split on commas and whitespace and drop empty items', () => {
    expect(parseFullAccessList('example.com, another.example.com  third.org,,')).toEqual([
      'example.com',
      'another.example.com',
      'third.org',
    ]);
    expect(parseFullAccessList(' \t ')).toEqual([]);
  });
});

describe('isFullAccess', () => {
  const list = parseFullAccessList('example.com,another.example.com');

  it('should match listed server names exactly', () => {
    expect(isFullAccess(list, 'example.com')).toBe(true);
    expect(isFullAccess(list, 'another.example.com')).toBe(true);
    expect(isFullAccess(list, 'aanother.example.com')).toBe(false);
    expect(isFullAccess(list, 'matrix.example.com')).toBe(false);
    expect(isFullAccess(list, 'EXAMPLE.COM')).toBe(false);
    expect(isFullAccess(list, 'example.com:443')).toBe(false);
  });

  it('should treat a lone * as everyone, and * beside other entries as a literal', () => {
    expect(isFullAccess(['*'], 'anything.org')).toBe(true);
    expect(isFullAccess(parseFullAccessList('*,example.com'), 'other.org')).toBe(false);
    expect(isFullAccess(parseFullAccessList('*,example.com'), 'example.com')).toBe(true);
  });

  it('should include ports in the match', () => {
    expect(isFullAccess(['127.0.0.1:8448'], '127.0.0.1:8448')).toBe(true);
    expect(isFullAccess(['127.0.0.1:8448'], '127.0.0.1')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import {
  createTurnCredentials,
  DEFAULT_MAX_TTL_SECONDS,
  parseTurnUsername,
  TurnCredentialError,
  turnPassword,
  verifyTurnCredentials,
} from './turn-credentials.ts';

// research/turn.md §1.1, cross-checked there with Python hmac, openssl and Node crypto.
const VECTORS = [
  {
    secret: 'north',
    username: '1700000000:@alice:example.org',
    password: 'b7c/MWmorxmLryRFjaJYkUW5nOo=',
  },
  { secret: 'north', username: '1700000000', password: 'CWyHi3zCeWqXBir9thl4m+iZPRY=' },
] as const;

const NOW_MS = 1_699_996_400_000; // 1700000000 - 3600 s

describe('turnPassword', () => {
  it.each(VECTORS)('should match the published vector for $username', (v) => {
    expect(turnPassword(v.secret, v.username)).toBe(v.password);
  });
});

describe('createTurnCredentials', () => {
  it('should put the absolute expiry first and the Matrix ID after it', () => {
    const c = createTurnCredentials({
      secret: 'north',
      user: '@alice:example.org',
      ttlSeconds: 3600,
      now: new Date(NOW_MS),
      uris: ['turn:turn.example.org:3478?transport=udp'],
    });
    expect(c).toEqual({
      username: '1700000000:@alice:example.org',
      password: 'b7c/MWmorxmLryRFjaJYkUW5nOo=',
      ttl: 3600,
      uris: ['turn:turn.example.org:3478?transport=udp'],
    });
  });

  it('should make an expiry-only username when no user is given, from a millisecond clock', () => {
    const c = createTurnCredentials({ secret: 'north', ttlSeconds: 3600, now: NOW_MS + 999 });
    expect(c.username).toBe('1700000000');
    expect(c.password).toBe('CWyHi3zCeWqXBir9thl4m+iZPRY=');
    expect(c.uris).toEqual([]);
  });

  it('should refuse a TTL above the 24 h default cap and name the cap', () => {
    expect(DEFAULT_MAX_TTL_SECONDS).toBe(86_400);
    expect(() =>
      createTurnCredentials({ secret: 'north', ttlSeconds: 86_401, now: NOW_MS }),
    ).toThrow(/ttlSeconds 86401 exceeds the maximum of 86400 s/);
    expect(createTurnCredentials({ secret: 'north', ttlSeconds: 86_400, now: NOW_MS }).ttl).toBe(
      86_400,
    );
  });

  it('should honour a configured cap', () => {
    expect(() =>
      createTurnCredentials({ secret: 'n', ttlSeconds: 601, now: NOW_MS, maxTtlSeconds: 600 }),
    ).toThrow(TurnCredentialError);
    expect(
      createTurnCredentials({ secret: 'n', ttlSeconds: 600, now: NOW_MS, maxTtlSeconds: 600 }).ttl,
    ).toBe(600);
  });

  it.each([0, -5, 1.5, Number.NaN])('should refuse the TTL %s', (ttlSeconds) => {
    expect(() => createTurnCredentials({ secret: 'north', ttlSeconds, now: NOW_MS })).toThrow(
      /ttlSeconds must be a positive whole number/,
    );
  });

  it('should refuse an empty secret, an empty user and an invalid clock', () => {
    expect(() => createTurnCredentials({ secret: '', ttlSeconds: 60, now: NOW_MS })).toThrow(
      /secret is empty/,
    );
    expect(() =>
      createTurnCredentials({ secret: 's', user: '', ttlSeconds: 60, now: NOW_MS }),
    ).toThrow(/user is empty/);
    expect(() =>
      createTurnCredentials({ secret: 's', ttlSeconds: 60, now: new Date('nope') }),
    ).toThrow(/not a valid time/);
  });
});

describe('parseTurnUsername', () => {
  it.each([
    ['1700000000:@alice:example.org', { expiry: 1700000000, user: '@alice:example.org' }],
    ['1700000000', { expiry: 1700000000, user: undefined }],
    ['alice:1700000000', { expiry: 1700000000, user: 'alice' }],
    ['@alice:example.org:1700000000', undefined],
    ['alice', undefined],
  ])('should read %s as coturn does', (username, expected) => {
    expect(parseTurnUsername(username)).toEqual(expected);
  });
});

describe('verifyTurnCredentials', () => {
  const now = 1_699_999_000_000;

  it.each(VECTORS)('should accept the vector $username', (v) => {
    expect(verifyTurnCredentials({ ...v, secrets: [v.secret], now })).toMatchObject({
      ok: true,
      expiry: 1700000000,
      secretIndex: 0,
    });
  });

  it('should accept a credential from any secret during a rotation', () => {
    const v = VECTORS[0];
    const check = verifyTurnCredentials({ ...v, secrets: ['south', 'north'], now });
    expect(check).toEqual({
      ok: true,
      expiry: 1700000000,
      user: '@alice:example.org',
      secretIndex: 1,
    });
  });

  it('should reject a retired secret, a wrong password and a malformed username', () => {
    const v = VECTORS[0];
    expect(verifyTurnCredentials({ ...v, secrets: ['south'], now })).toMatchObject({
      ok: false,
      reason: 'bad-password',
    });
    expect(
      verifyTurnCredentials({
        ...v,
        password: 'c7c/MWmorxmLryRFjaJYkUW5nOo=',
        secrets: ['north'],
        now,
      }),
    ).toMatchObject({ ok: false, reason: 'bad-password' });
    expect(
      verifyTurnCredentials({
        username: '@alice:example.org',
        password: 'x',
        secrets: ['north'],
        now,
      }),
    ).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('should reject an expired credential even with the right secret, and accept the last second', () => {
    const v = VECTORS[0];
    expect(verifyTurnCredentials({ ...v, secrets: ['north'], now: 1_700_000_001_000 })).toEqual({
      ok: false,
      reason: 'expired',
      message: 'expired 1 s ago',
    });
    expect(verifyTurnCredentials({ ...v, secrets: ['north'], now: 1_700_000_000_999 }).ok).toBe(
      true,
    );
  });

  it('should reject an expiry beyond maxTtlSeconds when asked to', () => {
    const v = VECTORS[0];
    expect(
      verifyTurnCredentials({ ...v, secrets: ['north'], now, maxTtlSeconds: 600 }),
    ).toMatchObject({ ok: false, reason: 'too-long' });
  });

  it('should verify what createTurnCredentials mints', () => {
    const c = createTurnCredentials({ secret: 'k', user: '@b:c.d', ttlSeconds: 60, now });
    expect(verifyTurnCredentials({ ...c, secrets: ['k'], now }).ok).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { WELL_KNOWN_CACHE_BOUNDS, wellKnownCacheLifetimeMs } from './cache-lifetime.ts';

const now = Date.parse('2026-01-01T00:00:00Z');
const hour = 3_600_000;

describe('wellKnownCacheLifetimeMs', () => {
  it('should default to 24 hours without caching headers', () => {
    expect(wellKnownCacheLifetimeMs({}, now)).toBe(24 * hour);
  });

  it('should honour max-age within the bounds', () => {
    expect(wellKnownCacheLifetimeMs({ 'cache-control': 'public, max-age=7200' }, now)).toBe(
      2 * hour,
    );
    expect(wellKnownCacheLifetimeMs({ 'cache-control': 'max-age="3600"' }, now)).toBe(hour);
  });

  it('should cap at 48 hours', () => {
    expect(wellKnownCacheLifetimeMs({ 'cache-control': 'max-age=31536000' }, now)).toBe(48 * hour);
  });

  it('should floor at 5 minutes for max-age=0, no-cache and no-store', () => {
    for (const value of ['max-age=0', 'no-cache', 'No-Store, max-age=3600', 'max-age=10']) {
      expect(wellKnownCacheLifetimeMs({ 'cache-control': value }, now)).toBe(5 * 60_000);
    }
  });

  it('should prefer Cache-Control over Expires', () => {
    const headers = { 'cache-control': 'max-age=600', expires: 'Thu, 01 Jan 2026 10:00:00 GMT' };
    expect(wellKnownCacheLifetimeMs(headers, now)).toBe(600_000);
  });

  it('should use Expires relative to Date, or to now without Date', () => {
    const expires = 'Thu, 01 Jan 2026 06:00:00 GMT';
    expect(wellKnownCacheLifetimeMs({ expires }, now)).toBe(6 * hour);
    expect(wellKnownCacheLifetimeMs({ expires, date: 'Thu, 01 Jan 2026 02:00:00 GMT' }, now)).toBe(
      4 * hour,
    );
  });

  it('should treat a past or unparseable Expires as expired, i.e. the floor', () => {
    expect(wellKnownCacheLifetimeMs({ expires: 'Wed, 31 Dec 2025 00:00:00 GMT' }, now)).toBe(
      5 * 60_000,
    );
    expect(wellKnownCacheLifetimeMs({ expires: '0' }, now)).toBe(5 * 60_000);
  });

  it('should ignore a Cache-Control without max-age and fall back to Expires or the default', () => {
    expect(wellKnownCacheLifetimeMs({ 'cache-control': 'public' }, now)).toBe(24 * hour);
    expect(
      wellKnownCacheLifetimeMs(
        { 'cache-control': 'public', expires: 'Thu, 01 Jan 2026 01:00:00 GMT' },
        now,
      ),
    ).toBe(hour);
  });

  it('should accept custom bounds', () => {
    const bounds = { ...WELL_KNOWN_CACHE_BOUNDS, minMs: 0 };
    expect(wellKnownCacheLifetimeMs({ 'cache-control': 'no-store' }, now, bounds)).toBe(0);
  });
});

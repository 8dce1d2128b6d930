/** Bounds on how long a `.well-known/matrix/server` answer is kept. */
export interface CacheBounds {
  /** Used when the response carries no usable caching header (spec: 24 h). */
  readonly defaultMs: number;
  /** Never cache longer (spec: 48 h). */
  readonly maxMs: number;
  /** Never cache shorter, so `max-age=0` cannot make every verification refetch (Synapse: 5 min). */
  readonly minMs: number;
}

/** The server-server spec's recommendations, with Synapse's floor. */
export const WELL_KNOWN_CACHE_BOUNDS: CacheBounds = {
  defaultMs: 24 * 3_600_000,
  maxMs: 48 * 3_600_000,
  minMs: 5 * 60_000,
};

/** The caching headers of a response, as undici gives them (lower-case names). */
export type CacheHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: CacheHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value as string | undefined);
}

/**
 * How long to keep a successful well-known answer, in ms: `Cache-Control: max-age` first
 * (`no-store`/`no-cache` count as 0), then `Expires` relative to `Date` (or `nowMs`), else the
 * default; the result is clamped to `[minMs, maxMs]`.
 */
export function wellKnownCacheLifetimeMs(
  headers: CacheHeaders,
  nowMs: number,
  bounds: CacheBounds = WELL_KNOWN_CACHE_BOUNDS,
): number {
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, rawLifetimeMs(headers, nowMs, bounds)));
}

function rawLifetimeMs(headers: CacheHeaders, nowMs: number, bounds: CacheBounds): number {
  const cacheControl = header(headers, 'cache-control');
  if (cacheControl !== undefined) {
    const directives = cacheControl
      .toLowerCase()
      .split(',')
      .map((d) => d.trim());
    if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
    for (const directive of directives) {
      const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
      if (match?.[1] !== undefined) return Number(match[1]) * 1000;
    }
  }
  const expires = header(headers, 'expires');
  if (expires !== undefined) {
    const at = Date.parse(expires);
    // An unparseable Expires means "already expired" (RFC 9111 §5.3).
    if (Number.isNaN(at)) return 0;
    const date = Date.parse(header(headers, 'date') ?? '');
    return at - (Number.isNaN(date) ? nowMs : date);
  }
  return bounds.defaultMs;
}

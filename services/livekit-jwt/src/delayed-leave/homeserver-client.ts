import {
  createGuardedConnector,
  parseServerName,
  systemDnsResolver,
} from '@rtc-sidecars/matrix-openid';
import { Agent, type Dispatcher } from 'undici';
import type {
  CsApi,
  DelayedEventAction,
  DelayedEventResult,
  DelayedEventsClient,
} from './leave-types.ts';

/** Options of {@link createHomeserverClient}. */
export interface HomeserverClientOptions {
  /** `LIVEKIT_CS_API_URL_OVERRIDES`: server name → client-server API base URL (trusted). */
  readonly overrides: ReadonlyMap<string, string>;
  /** `LIVEKIT_ALLOW_PRIVATE_HOMESERVERS`: let discovered URLs reach private addresses. */
  readonly allowPrivate: boolean;
  readonly insecureSkipVerifyTls: boolean;
  /** Trusted CA certificates (PEM) replacing the system list, for tests. */
  readonly ca?: string | undefined;
  readonly now?: () => number;
}

/** Resolves a homeserver's client-server API and performs MSC4140 calls on it. */
export interface HomeserverClient extends DelayedEventsClient {
  /** The client-server API of `serverName`, or undefined when none can be found. */
  resolveCsApi(serverName: string): Promise<CsApi | undefined>;
  close(): Promise<void>;
}

/** Upstream caches discovered client-server API URLs for 4 hours. */
const CACHE_TTL_MS = 4 * 3600_000;
const MAX_CACHED = 10_000;
const WELL_KNOWN_TIMEOUT_MS = 10_000;
/** Upstream gives each restart or send 5 seconds. */
const CALL_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 64 * 1024;
const MSC4140_PREFIX = '/_matrix/client/unstable/org.matrix.msc4140/delayed_events/';

/**
 * The service's client-server API client. Discovery is `GET https://<server>/.well-known/matrix/client`
 * (`m.homeserver.base_url`), unless the operator's overrides name the server. Discovered URLs
 * come from the internet, so every connection to them goes through the same SSRF guard as
 * OpenID (private addresses refused unless allowed); override URLs are the operator's and may
 * be internal. Restart and send carry no credentials: the delay ID is the capability (MSC4140).
 */
export function createHomeserverClient(options: HomeserverClientOptions): HomeserverClient {
  const now = options.now ?? Date.now;
  const agentFor = (guard: boolean): Agent =>
    new Agent({
      connect: createGuardedConnector({
        guard,
        resolver: systemDnsResolver,
        connectTimeoutMs: CALL_TIMEOUT_MS,
        rejectUnauthorized: !options.insecureSkipVerifyTls,
        ca: options.ca,
      }),
      keepAliveTimeout: 30_000,
    });
  const open = agentFor(false);
  const guarded = options.allowPrivate ? open : agentFor(true);
  const cache = new Map<string, { csApi: CsApi | undefined; expires: number }>();

  async function discover(serverName: string): Promise<CsApi | undefined> {
    if (parseServerName(serverName) === undefined) return undefined;
    try {
      const response = await guarded.request({
        origin: `https://${serverName}`,
        path: '/.well-known/matrix/client',
        method: 'GET',
        signal: AbortSignal.timeout(WELL_KNOWN_TIMEOUT_MS),
      });
      const text = await readText(response);
      if (response.statusCode !== 200) return undefined;
      const base = baseUrlOf(JSON.parse(text) as unknown);
      return base === undefined ? undefined : { baseUrl: base, trusted: false };
    } catch {
      return undefined;
    }
  }

  return {
    async resolveCsApi(serverName) {
      const override = options.overrides.get(serverName);
      if (override !== undefined) return { baseUrl: override, trusted: true };
      const cached = cache.get(serverName);
      if (cached !== undefined && cached.expires > now()) return cached.csApi;
      const csApi = await discover(serverName);
      // Only answers are cached: a failed lookup is retried on the member's next request.
      if (csApi !== undefined) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(serverName, { csApi, expires: now() + CACHE_TTL_MS });
      }
      return csApi;
    },

    async call(csApi, delayId, action) {
      return callDelayedEvent(csApi.trusted ? open : guarded, csApi.baseUrl, delayId, action, now);
    },

    async close() {
      await Promise.allSettled([open.close(), guarded.close()]);
    },
  };
}

async function callDelayedEvent(
  dispatcher: Dispatcher,
  baseUrl: string,
  delayId: string,
  action: DelayedEventAction,
  now: () => number,
): Promise<DelayedEventResult> {
  const url = new URL(baseUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}${MSC4140_PREFIX}${encodeURIComponent(delayId)}/${action}`;
  try {
    const response = await dispatcher.request({
      origin: url.origin,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await readText(response);
    const status = response.statusCode;
    if (status === 200 || status === 204) return { outcome: 'ok' };
    // 404: unknown or already finalised. 409: the finalised-events revision of MSC4140 answers
    // it for an action on an event already sent or cancelled (Synapse after 1.163): the same
    // "nothing left to do" for the job, not a reason to retry until the deadline.
    if (status === 404 || status === 409) return { outcome: 'not_found' };
    if (status === 429) {
      const retryAfterMs = retryAfter(response.headers['retry-after'], text, now);
      return {
        outcome: 'retry',
        reason: 'HTTP 429',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { outcome: 'retry', reason: `HTTP ${status}` };
  } catch (err) {
    return { outcome: 'retry', reason: err instanceof Error ? err.name : 'error' };
  }
}

/** `Retry-After` in seconds, else the Matrix body's `retry_after_ms`. */
/**
 * The reference's wait after a 429: `Retry-After` in seconds or as an HTTP date, failing that the
 * body's `retry_after_ms` rounded up to whole seconds; undefined leaves it to the job's backoff.
 */
function retryAfter(
  header: string | string[] | undefined,
  body: string,
  now: () => number,
): number | undefined {
  if (typeof header === 'string' && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now());
  }
  try {
    const ms = (JSON.parse(body) as { retry_after_ms?: unknown }).retry_after_ms;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)
      return Math.ceil(ms / 1000) * 1000;
  } catch {
    // Not JSON: fall back to the job's own backoff.
  }
  return undefined;
}

async function readText(response: Dispatcher.ResponseData): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      response.body.destroy();
      throw new Error('response body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function baseUrlOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const homeserver = (document as Record<string, unknown>)['m.homeserver'];
  if (typeof homeserver !== 'object' || homeserver === null) return undefined;
  const base = (homeserver as Record<string, unknown>).base_url;
  if (typeof base !== 'string') return undefined;
  try {
    const url = new URL(base);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (url.username !== '' || url.password !== '') return undefined;
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

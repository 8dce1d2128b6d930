import { createHash } from 'node:crypto';
import { errors as undiciErrors, Pool } from 'undici';
import { errors } from './errors.ts';

/** Outcome of a token check, for metrics. */
export type WhoamiResult = 'ok' | 'cached' | 'rejected' | 'unavailable' | 'timeout';

/** Options for {@link WhoamiClient}. */
export interface WhoamiOptions {
  /** Homeserver URL to ask, e.g. `http://continuwuity:8008` (may carry a path prefix). */
  readonly homeserverUrl: string;
  /** Overall bound for one check, connect to last body byte. */
  readonly timeoutMs: number;
  /** How long an accepted token stays accepted without asking again; 0 disables the cache. */
  readonly cacheSeconds: number;
  /** Called once per check with its outcome. */
  readonly onResult?: (result: WhoamiResult) => void;
  /** Clock, injectable for tests. */
  readonly now?: () => number;
}

/** Most entries the positive cache holds; the oldest go first (all share one lifetime). */
const CACHE_LIMIT = 10_000;
/**
 * Longest token forwarded to the homeserver. Matrix access tokens are tens of characters (OAuth
 * ones from an authentication service a few hundred); a longer one would only cost a homeserver
 * request that its header limit refuses, turning an anonymous request into a 502.
 */
export const MAX_TOKEN_LENGTH = 4096;
/** A whoami answer is a few hundred bytes; anything much bigger is not one. */
const BODY_LIMIT = 64 * 1024;

/**
 * Checks Matrix access tokens with `GET /_matrix/client/v3/account/whoami` on the homeserver,
 * through one pooled keep-alive connection set, and remembers accepted tokens briefly so a
 * client polling the transports endpoint costs one homeserver request per cache lifetime.
 * Concurrent checks of the same token share one request. Tokens are kept only as SHA-256
 * hashes and never logged.
 */
export class WhoamiClient {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #options: WhoamiOptions;
  readonly #now: () => number;
  readonly #accepted = new Map<string, number>();
  readonly #pending = new Map<string, Promise<void>>();

  public constructor(options: WhoamiOptions) {
    const url = new URL(options.homeserverUrl);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#path = `${url.pathname.replace(/\/+$/, '')}/_matrix/client/v3/account/whoami`;
    this.#pool = new Pool(url.origin, {
      connections: 16,
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /**
   * Resolves when the homeserver accepts `token`.
   *
   * @throws `MatrixError`: 401 `M_UNKNOWN_TOKEN` when rejected (or longer than
   *   {@link MAX_TOKEN_LENGTH}, without asking), 403 `M_FORBIDDEN` when refused,
   *   502 when the homeserver is unreachable or answers nonsense, 504 when it is too slow.
   */
  public async check(token: string): Promise<void> {
    if (token.length > MAX_TOKEN_LENGTH) {
      this.#options.onResult?.('rejected');
      throw errors.unknownToken(false);
    }
    const key = createHash('sha256').update(token).digest('base64url');
    const expires = this.#accepted.get(key);
    if (expires !== undefined) {
      if (expires > this.#now()) {
        this.#options.onResult?.('cached');
        return;
      }
      this.#accepted.delete(key);
    }
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#ask(token, key).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Closes the pooled connections. */
  public async close(): Promise<void> {
    await this.#pool.close();
  }

  async #ask(token: string, key: string): Promise<void> {
    let status: number;
    let body: unknown;
    try {
      const res = await this.#pool.request({
        method: 'GET',
        path: this.#path,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      status = res.statusCode;
      body = await readJson(res.body);
    } catch (err) {
      if (isTimeout(err)) {
        this.#options.onResult?.('timeout');
        throw errors.homeserverTimeout(err);
      }
      this.#options.onResult?.('unavailable');
      throw errors.homeserverUnavailable(err);
    }
    const errcode = field(body, 'errcode');
    if (status === 200 && typeof field(body, 'user_id') === 'string') {
      this.#remember(key);
      this.#options.onResult?.('ok');
      return;
    }
    if (status === 401 || errcode === 'M_UNKNOWN_TOKEN' || errcode === 'M_MISSING_TOKEN') {
      this.#options.onResult?.('rejected');
      throw errors.unknownToken(field(body, 'soft_logout') === true);
    }
    if (status === 403) {
      this.#options.onResult?.('rejected');
      throw errors.forbidden();
    }
    this.#options.onResult?.('unavailable');
    throw errors.homeserverUnavailable(new Error(`whoami answered HTTP ${status}`));
  }

  #remember(key: string): void {
    if (this.#options.cacheSeconds === 0) return;
    if (this.#accepted.size >= CACHE_LIMIT) {
      const oldest = this.#accepted.keys().next();
      if (oldest.done !== true) this.#accepted.delete(oldest.value);
    }
    this.#accepted.set(key, this.#now() + this.#options.cacheSeconds * 1000);
  }
}

async function readJson(body: AsyncIterable<Buffer>): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('whoami answer too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    // A proxy's HTML error page, for instance: judged by status alone.
    return undefined;
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    (err instanceof DOMException && err.name === 'TimeoutError') ||
    (err instanceof Error && err.name === 'TimeoutError')
  );
}

import { type Dispatcher } from 'undici';
import { wellKnownCacheLifetimeMs } from './cache-lifetime.ts';
import { startDeadline } from './deadline.ts';
import { discardBody, readCappedBody } from './read-capped-body.ts';
import { type WellKnownResult } from './server-resolver.ts';
import { toOpenIdError } from './to-openid-error.ts';

/** Options of {@link fetchWellKnown}. */
export interface FetchWellKnownOptions {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  /** 443 in production; tests point it at a loopback listener. */
  readonly port: number;
  readonly userAgent: string;
  readonly now: () => number;
}

const MAX_REDIRECTS = 3;

/**
 * `GET https://<hostname>/.well-known/matrix/server`: only a 200 with a JSON object whose
 * `m.server` is a string counts; redirects are followed (https only, at most three, each through
 * the same guarded connector). Every failure becomes `{ failure }` with a reason for the logs.
 */
export async function fetchWellKnown(
  hostname: string,
  options: FetchWellKnownOptions,
): Promise<WellKnownResult> {
  const deadline = startDeadline(options.timeoutMs);
  const { signal } = deadline;
  let url = new URL(`https://${hostname}:${options.port}/.well-known/matrix/server`);
  try {
    for (let hop = 0; ; hop++) {
      const response = await options.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers: { host: url.host.replace(/:443$/, ''), 'user-agent': options.userAgent },
        signal,
      });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await discardBody(response.body, options.maxBodyBytes);
        if (hop >= MAX_REDIRECTS) return { failure: 'too many redirects' };
        url = new URL(location, url);
        if (url.protocol !== 'https:') return { failure: 'redirect to a non-https URL' };
        continue;
      }
      if (response.statusCode !== 200) {
        await discardBody(response.body, options.maxBodyBytes);
        return { failure: `HTTP ${response.statusCode}` };
      }
      const text = await readCappedBody(
        response.body,
        options.maxBodyBytes,
        response.headers['content-length'],
      );
      const server = delegatedServer(text);
      if (server === undefined) return { failure: 'no "m.server" string in the document' };
      return {
        delegatedTo: server,
        ttlMs: wellKnownCacheLifetimeMs(response.headers, options.now()),
      };
    }
  } catch (error) {
    const failure = toOpenIdError(error, 'well-known', { timedOut: signal.aborted, secret: '' });
    return { failure: `${failure.kind}: ${failure.message}` };
  } finally {
    deadline.release();
  }
}

function delegatedServer(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const server = (json as Record<string, unknown>)['m.server'];
  return typeof server === 'string' ? server : undefined;
}

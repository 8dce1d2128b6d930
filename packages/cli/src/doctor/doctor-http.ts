import { CheckFailure } from './doctor-check.ts';
import type { ProblemId } from './doctor-catalogue.ts';

/** The `fetch` the checks use; tests inject fakes, the command a rewriting one for `--via`. */
export type Fetch = typeof fetch;

/** An answer read in full: status, headers and the body as text and, when it parses, JSON. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

/** Options of {@link request}. */
export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** The failure to report when nothing answers (connection refused, DNS, TLS, timeout). */
  readonly unreachable: ProblemId;
  readonly timeoutMs: number;
}

// getaddrinfo's "no such name" and "no DNS server answered".
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * A network failure in words, and the catalogue entry that explains it when it is not just
 * "nothing answers": a name without DNS, or a port fetch refuses to use at all.
 */
export function describeNetworkError(
  url: string,
  error: unknown,
): { detail: string; problem?: ProblemId } {
  if (!(error instanceof Error)) return { detail: String(error) };
  if (error.name === 'TimeoutError') return { detail: 'no answer in time' };
  // Not `instanceof Error`: undici's errors may come from another realm (test runners).
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause !== 'object' || typeof cause.message !== 'string') {
    return { detail: error.message };
  }
  const code = cause.code;
  const { hostname } = new URL(url);
  if (typeof code === 'string' && DNS_CODES.has(code)) {
    const what = code === 'EAI_AGAIN' ? 'no DNS server answered for' : 'DNS has no address for';
    return { detail: `${what} ${hostname} (${code})`, problem: 'dns-unresolved' };
  }
  // undici refuses the WHATWG "bad ports" (6000, 6667, 10080, …) before connecting, as browsers do.
  if (cause.message === 'bad port') {
    return {
      detail: 'fetch refuses to connect to this port (a "bad port" for browsers too)',
      problem: 'fetch-bad-port',
    };
  }
  return { detail: typeof code === 'string' ? `${code}: ${cause.message}` : cause.message };
}

/**
 * One HTTP exchange read to the end. Network failures throw a {@link CheckFailure} with
 * `options.unreachable`, so a check only handles the answers it understands.
 */
export async function request(
  fetchFn: Fetch,
  url: string,
  options: RequestOptions,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, {
      method: options.method ?? 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await res.text();
  } catch (error) {
    const { detail, problem } = describeNetworkError(url, error);
    throw new CheckFailure(problem ?? options.unreachable, `${url}: ${detail}`);
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** `value` as a plain object, or `undefined`. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `obj[key]` when it is a non-empty string. */
export function stringField(
  obj: Record<string, unknown> | undefined,
  key: string,
): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A short description of an answer for a failure line: status, errcode and error. */
export function describeAnswer(answer: HttpAnswer): string {
  const body = asObject(answer.json);
  const errcode = stringField(body, 'errcode');
  const error = stringField(body, 'error');
  if (errcode !== undefined) return `${answer.status} ${errcode}${error ? ` (${error})` : ''}`;
  const snippet = answer.text.replace(/\s+/g, ' ').trim().slice(0, 80);
  return snippet === '' ? `${answer.status}` : `${answer.status} ${snippet}`;
}

/** The failure for a proxy-style error status: 404 → `notFound`, 502/503/504 → `gateway`. */
export function statusProblem(status: number, notFound: ProblemId, gateway: ProblemId): ProblemId {
  if (status === 404) return notFound;
  if (status === 502 || status === 503 || status === 504) return gateway;
  return 'unexpected';
}

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * A `fetch` that sends every request for `https://<domain>` (and `wss://`) to `via` instead,
 * keeping path and query: checks a deployment through its proxy's LAN address, or before DNS
 * and certificates exist, while the URLs in its documents stay the public ones. A URL naming
 * another port of the domain (the federation check's `:8448` when no server document says
 * otherwise) goes to the same port of the `via` host: nothing leaves for the public name, and
 * a port the proxy does not serve still shows as unreachable.
 */
export function viaFetch(domain: string, via: string, inner: Fetch = fetch): Fetch {
  const target = new URL(via);
  return (input, init) => {
    const raw = input instanceof Request ? input.url : input.toString();
    return inner(rewriteUrl(raw, domain, target), init);
  };
}

/** `url` with the origin `https://<domain>[:port]` replaced by `via` (see {@link viaFetch}). */
export function rewriteUrl(url: string, domain: string, via: URL): string {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  if (!secure || parsed.hostname !== domain.toLowerCase()) return url;
  const ws = parsed.protocol === 'wss:';
  const base = via.pathname.replace(/\/+$/, '');
  const protocol = ws ? via.protocol.replace('http', 'ws') : via.protocol;
  // new URL() drops the default port, so a port left here was named explicitly.
  const host = parsed.port === '' ? via.host : `${via.hostname}:${parsed.port}`;
  return `${protocol}//${host}${base}${parsed.pathname}${parsed.search}`;
}

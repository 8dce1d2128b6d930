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

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
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
    throw new CheckFailure(options.unreachable, `${url}: ${describeNetworkError(error)}`);
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
 * and certificates exist, while the URLs in its documents stay the public ones.
 */
export function viaFetch(domain: string, via: string, inner: Fetch = fetch): Fetch {
  const target = new URL(via);
  return (input, init) => {
    const raw = input instanceof Request ? input.url : input.toString();
    return inner(rewriteUrl(raw, domain, target), init);
  };
}

/** `url` with the origin `https://<domain>` replaced by `via` (see {@link viaFetch}). */
export function rewriteUrl(url: string, domain: string, via: URL): string {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  if (!secure || parsed.host !== domain.toLowerCase()) return url;
  const ws = parsed.protocol === 'wss:';
  const base = via.pathname.replace(/\/+$/, '');
  const protocol = ws ? via.protocol.replace('http', 'ws') : via.protocol;
  return `${protocol}//${via.host}${base}${parsed.pathname}${parsed.search}`;
}

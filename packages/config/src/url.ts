import { isIP } from 'node:net';
import { ConfigValueError } from './config-error.ts';
import { EnvVar } from './env-var.ts';

/** True for `localhost`, `*.localhost`, 127.0.0.0/8 and `::1`: hosts where plain HTTP cannot leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Options for {@link url}. */
export interface UrlOptions {
  /** Accepted schemes, with the colon, e.g. `['https:', 'http:']`. Default: `['https:', 'http:']`. */
  readonly protocols?: readonly string[];
}

/**
 * An absolute URL with one of the given schemes and no credentials. Returned as its original
 * text minus a trailing slash, so `https://hs.example.org/` and `https://hs.example.org` agree.
 * Whether plain `http:` is acceptable is policy; see {@link insecureHttpIssue}.
 */
export function url(name: string, options: UrlOptions = {}): EnvVar<string> {
  const protocols = options.protocols ?? ['https:', 'http:'];
  return new EnvVar(name, (raw) => parseUrl(raw, protocols));
}

/** Parses one absolute URL (see {@link url}); exported for list-of-URL variables. */
export function parseUrl(raw: string, protocols: readonly string[] = ['https:', 'http:']): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigValueError(`must be an absolute URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigValueError(
      `must use ${protocols.map((p) => p.slice(0, -1)).join(' or ')}, got "${parsed.protocol.slice(0, -1)}"`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ConfigValueError('must not contain a user name or password');
  }
  if (parsed.hostname === '') throw new ConfigValueError(`has no host: "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/**
 * Returns a reason when `value` is plain HTTP (or WS) to a non-loopback host and insecure HTTP
 * was not explicitly allowed; `undefined` when the URL is fine.
 */
export function insecureHttpIssue(value: string, allowInsecure: boolean): string | undefined {
  const parsed = new URL(value);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'ws:') return undefined;
  if (allowInsecure || isLoopbackHost(parsed.hostname)) return undefined;
  return `must use https (plain http is only accepted for loopback hosts unless insecure HTTP is allowed), got "${value}"`;
}

import { isIP } from 'node:net';
import {
  type BindAddress,
  type ConfigIssue,
  ConfigValueError,
  parseBind,
  parseUrl,
} from '@rtc-sidecars/config';

/** Where to listen; `host` undefined means every interface (dual-stack where possible). */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** pino levels the service accepts. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * `LIVEKIT_URL` with ws→http and wss→https, path prefix kept: where the SFU's HTTP API lives when
 * `LIVEKIT_API_URL` does not say otherwise.
 */
export function apiUrlFromLiveKitUrl(livekitUrl: string): string {
  const parsed = new URL(livekitUrl);
  const scheme = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }[
    parsed.protocol
  ];
  if (scheme === undefined)
    throw new ConfigValueError(`must be a ws:// or wss:// URL, got "${livekitUrl}"`);
  return `${scheme}${livekitUrl.slice(parsed.protocol.length)}`.replace(/\/+$/, '');
}

/** `LIVEKIT_API_URL` if set, else derived from `LIVEKIT_URL`; problems go to `issues`. */
export function resolveApiUrl(
  livekitUrl: string,
  apiUrl: string | undefined,
  issues: ConfigIssue[],
): string | undefined {
  try {
    if (apiUrl !== undefined) return parseUrl(apiUrl, ['http:', 'https:']);
  } catch (err) {
    issues.push({ variable: 'LIVEKIT_API_URL', message: (err as Error).message });
    return undefined;
  }
  try {
    return apiUrlFromLiveKitUrl(livekitUrl);
  } catch (err) {
    const message = err instanceof ConfigValueError ? err.message : `is not a URL: "${livekitUrl}"`;
    issues.push({ variable: 'LIVEKIT_URL', message: `${message} (or set LIVEKIT_API_URL)` });
    return undefined;
  }
}

/** Listen address from `LIVEKIT_JWT_BIND` / the deprecated `LIVEKIT_JWT_PORT`, as upstream. */
export function resolveListen(
  bind: string | undefined,
  port: number | undefined,
  rawPort: string | undefined,
  issues: ConfigIssue[],
  warnings: string[],
): ListenAddress | undefined {
  if (bind !== undefined && rawPort !== undefined) {
    issues.push({
      variable: 'LIVEKIT_JWT_BIND',
      message: 'LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT must not be set together',
    });
    return undefined;
  }
  if (rawPort !== undefined) {
    if (port === undefined) return undefined; // already reported by the parser
    warnings.push('LIVEKIT_JWT_PORT is deprecated; use LIVEKIT_JWT_BIND=:<port>');
    return { host: undefined, port };
  }
  if (bind === undefined) return { host: undefined, port: 8080 };
  let parsed: BindAddress;
  try {
    parsed = parseBind(bind);
  } catch (err) {
    issues.push({ variable: 'LIVEKIT_JWT_BIND', message: (err as Error).message });
    return undefined;
  }
  // A bare ":port" means every interface, IPv6 included, as upstream.
  return { host: bind.startsWith(':') ? undefined : parsed.host, port: parsed.port };
}

/**
 * Default `LIVEKIT_JWT_TRUST_PROXY`: proxies on loopback and private networks (how a reverse
 * proxy reaches the service in a compose network), so each client gets its own rate-limit bucket
 * behind one, while clients on public addresses can never choose theirs.
 */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = Object.freeze([
  'loopback',
  'linklocal',
  'uniquelocal',
]);

const PROXY_KEYWORDS = new Set(DEFAULT_TRUSTED_PROXIES);

/**
 * `LIVEKIT_JWT_TRUST_PROXY`: `false` (trust nobody, key on the peer address), `true` (trust every
 * hop) or a comma list of addresses, CIDRs, host names (resolved by the app, see
 * trusted-proxies.ts) and the keywords `loopback`, `linklocal`, `uniquelocal`. Unset means
 * {@link DEFAULT_TRUSTED_PROXIES}.
 */
export function resolveTrustProxy(
  raw: string | undefined,
  issues: ConfigIssue[],
): boolean | readonly string[] {
  if (raw === undefined) return DEFAULT_TRUSTED_PROXIES;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = entries.filter(
    (entry) => !PROXY_KEYWORDS.has(entry) && !isAddressOrCidr(entry) && !isHostName(entry),
  );
  if (bad.length > 0) {
    issues.push({
      variable: 'LIVEKIT_JWT_TRUST_PROXY',
      message: `must be true, false or a list of addresses, CIDRs, host names, loopback, linklocal, uniquelocal; got "${bad.join('", "')}"`,
    });
  }
  return Object.freeze(entries);
}

/** A proxy named by host name (a compose service or container), resolved by the app. */
function isHostName(entry: string): boolean {
  return (
    /[a-z]/i.test(entry) &&
    /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/i.test(entry)
  );
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** `LIVEKIT_LOG_LEVEL` leniently, as upstream: an unknown level means `info` plus a warning. */
export function resolveLogLevel(raw: string | undefined, warnings: string[]): LogLevel {
  if (raw === undefined) return 'info';
  const level = raw.toLowerCase();
  if (level === 'debug' || level === 'info' || level === 'warn' || level === 'error') return level;
  if (level === 'warning') return 'warn';
  warnings.push(`LIVEKIT_LOG_LEVEL "${raw}" is not one of debug, info, warn, error; using info`);
  return 'info';
}

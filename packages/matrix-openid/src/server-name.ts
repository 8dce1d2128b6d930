import { isIPv4, isIPv6 } from 'node:net';

/**
 * A parsed Matrix server name (server-server spec, appendix "Server Name"):
 * `hostname [":" port]` where hostname is an IPv4 literal, a bracketed IPv6 literal or a DNS name.
 */
export interface ServerName {
  /** The name exactly as given; `sub` must carry this string after its first `:`. */
  readonly raw: string;
  /** Host without brackets or port: `example.org`, `192.0.2.1`, `2001:db8::1`. */
  readonly host: string;
  /** What the host is; IP literals skip `.well-known` and SRV. */
  readonly kind: 'dns' | 'ipv4' | 'ipv6';
  /** The explicit port, when the name carries one. */
  readonly port: number | undefined;
}

// DNS names per the spec grammar: 1–255 of DIGIT / ALPHA / "-" / ".". The spec's grammar is
// deliberately loose; we add only the length bound and refuse empty labels, which no resolver
// accepts anyway and which would make `a..b` and `a.b` look different to the exact `sub` check.
const DNS_NAME = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses a server name, or returns `undefined` when it does not follow the spec grammar.
 * Never throws: the input comes from anonymous clients.
 */
export function parseServerName(raw: string): ServerName | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 261) return undefined;
  let hostPart: string;
  let portPart: string | undefined;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0) return undefined;
    hostPart = raw.slice(1, close);
    const rest = raw.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portPart = rest.slice(1);
    }
    // The spec's IPv6 grammar is hex digits, ":" and "." only: no zone identifiers.
    if (!/^[0-9A-Fa-f:.]{2,45}$/.test(hostPart) || !isIPv6(hostPart)) return undefined;
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon >= 0) {
      hostPart = raw.slice(0, colon);
      portPart = raw.slice(colon + 1);
    } else {
      hostPart = raw;
    }
    if (hostPart.includes(':')) return undefined; // unbracketed IPv6 is not a server name
  }
  let port: number | undefined;
  if (portPart !== undefined) {
    if (!PORT.test(portPart)) return undefined;
    port = Number(portPart);
    if (port < 1 || port > 65535) return undefined;
  }
  if (raw.startsWith('[')) return { raw, host: hostPart, kind: 'ipv6', port };
  if (/^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$/.test(hostPart)) {
    // Four dotted numbers are an IPv4 literal or nothing: `999.1.1.1` must not become a DNS name.
    return isIPv4(hostPart) ? { raw, host: hostPart, kind: 'ipv4', port } : undefined;
  }
  if (hostPart.length === 0 || hostPart.length > 255 || !DNS_NAME.test(hostPart)) return undefined;
  return { raw, host: hostPart, kind: 'dns', port };
}

/** Whether `raw` is a syntactically valid Matrix server name. */
export function isValidServerName(raw: string): boolean {
  return parseServerName(raw) !== undefined;
}

/** Formats host and port for a URL authority or `Host` header: brackets IPv6, omits no port. */
export function formatAuthority(host: string, port: number | undefined): string {
  const h = isIPv6(host) ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

import { isIP } from 'node:net';

/**
 * Reasons a Matrix server name (`host` or `host:port`, where host is a DNS name, an IPv4
 * literal or a bracketed IPv6 literal) is invalid, following the grammar of the Matrix spec
 * ("Server name" in the appendices). `undefined` when it is valid.
 */
export function serverNameIssue(value: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (m === null) return `must be host or host:port, got "${value}"`;
  const host = m[1] ?? '';
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `port must be between 1 and 65535, got "${value}"`;
  }
  if (host.startsWith('[')) {
    return isIP(host.slice(1, -1)) === 6 ? undefined : `has an invalid IPv6 literal: "${value}"`;
  }
  if (/^[\d.]+$/.test(host)) {
    return isIP(host) === 4 ? undefined : `has an invalid IPv4 address: "${value}"`;
  }
  if (host.length > 255) return 'host name must be at most 255 characters';
  const labels = host.split('.');
  const bad = labels.find((l) => !/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(l));
  if (bad !== undefined) return `has an invalid host name: "${value}"`;
  return undefined;
}

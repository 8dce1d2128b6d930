import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

import { UsageError } from '../cli-error.ts';

/**
 * Checks that `input` is a public (globally routable unicast) IPv4 or IPv6 literal and returns
 * it in canonical form. LiveKit advertises it as its ICE candidate and coturn as its relay
 * address: a private, loopback, CGNAT or documentation address there gives calls that connect
 * and never carry media, so it is refused here rather than discovered in a call.
 *
 * @throws {@link UsageError} with a one-line reason.
 */
export function parsePublicAddress(input: string): string {
  const text = input.trim();
  if (text === '') throw new UsageError('--external-ip is required (the public IP of this host)');
  // node:net accepts only the dotted-quad and RFC 4291 forms; ipaddr.js alone would also take
  // inet_aton oddities such as "1.2.3" or "0x7f.1".
  if (isIP(text) === 0) {
    throw new UsageError(`--external-ip "${input}" is not an IP address literal`);
  }
  let addr = ipaddr.parse(text);
  if (addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) addr = addr.toIPv4Address();
  const range = addr.range();
  if (range !== 'unicast') {
    throw new UsageError(
      `--external-ip "${input}" is not a public address (it is in the ${range} range)`,
    );
  }
  return addr.toString();
}

import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

import { UsageError } from '../cli-error.ts';

// Documentation ranges (RFC 5737, RFC 3849): ipaddr.js files the IPv4 ones under "reserved".
const DOCUMENTATION = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map(
  (cidr) => ipaddr.parseCIDR(cidr),
);

// What ipaddr.js's range names mean, in words an operator recognises.
const RANGE_WORDS: Readonly<Record<string, string>> = {
  private: 'a private network address (RFC 1918: 10/8, 172.16/12, 192.168/16)',
  uniqueLocal: 'a private IPv6 address (unique local, fc00::/7)',
  loopback: 'a loopback address (this machine only)',
  carrierGradeNat: "a provider's shared address (carrier-grade NAT, 100.64.0.0/10)",
  linkLocal: 'a link-local address (only valid on one network segment)',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  benchmarking: 'a benchmarking address (198.18.0.0/15)',
};

// Addresses that can never be a host's address, even in a lab.
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);

/** Options of {@link parsePublicAddress}. */
export interface AddressOptions {
  /** How to name the value in errors, e.g. `--external-ip` or `EXTERNAL_IP in /srv/rtc/.env`. */
  readonly label?: string;
  /** Accept private, loopback, shared and documentation addresses (a lab or test set-up). */
  readonly allowPrivate?: boolean;
}

function describeRange(addr: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  if (DOCUMENTATION.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits))) {
    return 'a documentation address (reserved for examples, never routed)';
  }
  const range = addr.range();
  if (range === 'unicast') return undefined;
  return RANGE_WORDS[range] ?? 'a special-purpose address that is not publicly routed';
}

/**
 * Checks that `input` is a public (globally routable unicast) IPv4 or IPv6 literal and returns
 * it in canonical form. LiveKit advertises it as its ICE candidate and coturn as its relay
 * address: a private, loopback, shared or documentation address there gives calls that connect
 * and never carry media, so it is refused unless `allowPrivate` says this is a lab set-up.
 *
 * @throws {@link UsageError} with a one-line reason.
 */
export function parsePublicAddress(input: string, options: AddressOptions = {}): string {
  const label = options.label ?? '--external-ip';
  const text = input.trim();
  if (text === '') throw new UsageError(`${label} is required (the public IP of this host)`);
  // node:net accepts only the dotted-quad and RFC 4291 forms; ipaddr.js alone would also take
  // inet_aton oddities such as "1.2.3" or "0x7f.1".
  if (isIP(text) === 0) {
    throw new UsageError(`${label} "${input}" is not an IP address literal`);
  }
  let addr = ipaddr.parse(text);
  if (addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) addr = addr.toIPv4Address();
  const what = describeRange(addr);
  if (what !== undefined && (NEVER.has(addr.range()) || options.allowPrivate !== true)) {
    const lab = NEVER.has(addr.range())
      ? ''
      : '; for a lab or test set-up that is never reached from the internet, add --allow-private-ip';
    throw new UsageError(
      `${label} "${input}" is not a public address: it is ${what}. Give this server's public address${lab}`,
    );
  }
  return addr.toString();
}

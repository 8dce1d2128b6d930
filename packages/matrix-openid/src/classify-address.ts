import ipaddr from 'ipaddr.js';

/**
 * The class of an IP address as the SSRF guard sees it. Only `public` may be reached from a
 * client-supplied server name unless the guard is lifted.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unique_local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'invalid';

// ipaddr.js range names → our classes. Anything it names that is not listed here
// (documentation nets, benchmarking, 6to4 relays, Teredo, ORCHID, AS112, AMT, broadcast …)
// is `reserved`: not a place a homeserver lives, so refusing it costs nothing.
const V4: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link_local',
  carrierGradeNat: 'cgnat',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

const V6: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  loopback: 'loopback',
  linkLocal: 'link_local',
  uniqueLocal: 'unique_local',
  // fec0::/10 was the site-local (private) prefix before unique-local replaced it.
  deprecatedSiteLocal: 'private',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

/**
 * Classifies an IP address string (IPv4, IPv6, IPv4-mapped IPv6 such as `::ffff:127.0.0.1`,
 * and NAT64 / IPv4-translated IPv6, which are judged by the IPv4 address they embed).
 * A zone identifier (`fe80::1%eth0`) is ignored. Returns `invalid` for anything else.
 */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'invalid';
  // ipaddr.isValid accepts shorthand such as "127.1" and octal; a socket address never looks
  // like that, so only the canonical forms node:net accepts count.
  if (!ipaddr.IPv6.isValid(bare) && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return 'invalid';
  if (isIpv4Compatible(bare)) return 'reserved';
  const address = ipaddr.process(bare); // unwraps ::ffff:a.b.c.d into IPv4
  if (address.kind() === 'ipv4') return V4[address.range()] ?? 'reserved';
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'rfc6052' || range === 'rfc6145') {
    // 64:ff9b::/96 and ::ffff:0:0:0/96 reach the embedded IPv4 address through a translator.
    const bytes = v6.toByteArray().slice(12);
    return classifyAddress(bytes.join('.'));
  }
  return V6[range] ?? 'reserved';
}

/**
 * `::a.b.c.d` beyond `::` and `::1`: the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1).
 * Some stacks still route it to the embedded IPv4 address and no homeserver lives there, so it
 * is refused in every spelling (`::127.0.0.1`, `::7f00:1`).
 */
function isIpv4Compatible(bare: string): boolean {
  if (!ipaddr.IPv6.isValid(bare)) return false;
  // ipaddr.js reads a dotted tail such as `::127.0.0.1` as IPv4-mapped (`::ffff:…`); the WHATWG
  // URL parser keeps the real bits, so canonicalise through it first.
  let canonical: string;
  try {
    canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return false;
  }
  const bytes = ipaddr.IPv6.parse(canonical).toByteArray();
  const prefixZero = bytes.slice(0, 12).every((b) => b === 0);
  const tail = bytes.slice(12).reduce((n, b) => n * 256 + b, 0);
  return prefixZero && tail > 1;
}

/** Whether the guard lets a connection go to `ip`: true for `public` addresses only. */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === 'public';
}

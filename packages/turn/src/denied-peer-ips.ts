/** One `denied-peer-ip` range with the reason it is there. */
export interface DeniedPeerRange {
  /** coturn syntax: an address or `first-last`. */
  readonly range: string;
  readonly why: string;
}

/**
 * Peer addresses a public TURN relay must never reach. coturn 4.6 only refuses loopback and the
 * zero block on its own, so without these lines a TURN user can reach the operator's LAN, the
 * Docker network, cloud metadata (169.254.169.254) and, through IPv4-mapped IPv6, loopback
 * (CVE-2020-26262, CVE-2026-27624). The list follows Synapse's coturn guide, plus the IPv6
 * documentation and site-local ranges.
 */
export const DENIED_PEER_IP_RANGES: readonly DeniedPeerRange[] = [
  { range: '0.0.0.0-0.255.255.255', why: '"this network"' },
  { range: '10.0.0.0-10.255.255.255', why: 'RFC 1918 private' },
  { range: '100.64.0.0-100.127.255.255', why: 'CGNAT shared space' },
  { range: '127.0.0.0-127.255.255.255', why: 'loopback' },
  { range: '169.254.0.0-169.254.255.255', why: 'link-local, cloud metadata' },
  { range: '172.16.0.0-172.31.255.255', why: 'RFC 1918 private (Docker networks)' },
  { range: '192.0.0.0-192.0.0.255', why: 'IETF protocol assignments' },
  { range: '192.0.2.0-192.0.2.255', why: 'documentation (TEST-NET-1)' },
  { range: '192.88.99.0-192.88.99.255', why: '6to4 relay anycast' },
  { range: '192.168.0.0-192.168.255.255', why: 'RFC 1918 private' },
  { range: '198.18.0.0-198.19.255.255', why: 'benchmarking' },
  { range: '198.51.100.0-198.51.100.255', why: 'documentation (TEST-NET-2)' },
  { range: '203.0.113.0-203.0.113.255', why: 'documentation (TEST-NET-3)' },
  { range: '240.0.0.0-255.255.255.255', why: 'reserved and broadcast' },
  { range: '::1', why: 'IPv6 loopback' },
  { range: '64:ff9b::-64:ff9b::ffff:ffff', why: 'NAT64 (reaches IPv4 private space)' },
  {
    range: '::ffff:0.0.0.0-::ffff:255.255.255.255',
    why: 'IPv4-mapped IPv6 (CVE-2026-27624 on coturn < 4.9)',
  },
  { range: '100::-100::ffff:ffff:ffff:ffff', why: 'discard-only' },
  {
    range: '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff',
    why: 'IETF protocol assignments, Teredo',
  },
  { range: '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', why: 'IPv6 documentation' },
  { range: '2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: '6to4 (embeds IPv4)' },
  { range: 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'unique local (ULA)' },
  { range: 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'IPv6 link-local' },
  { range: 'fec0::-feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'IPv6 site-local (deprecated)' },
];

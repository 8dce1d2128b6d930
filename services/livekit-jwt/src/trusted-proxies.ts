import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Resolves a host name to every address it has (`dns.lookup` with `all`). */
export type ProxyLookup = (name: string) => Promise<readonly string[]>;

const systemLookup: ProxyLookup = async (name) =>
  (await dnsLookup(name, { all: true })).map((a) => a.address);

// The keywords of LIVEKIT_JWT_TRUST_PROXY, as Fastify (proxy-addr) defines them.
const KEYWORDS: Readonly<Record<string, readonly (readonly [string, number])[]>> = {
  loopback: [
    ['127.0.0.0', 8],
    ['::1', 128],
  ],
  linklocal: [
    ['169.254.0.0', 16],
    ['fe80::', 10],
  ],
  uniquelocal: [
    ['10.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['fc00::', 7],
  ],
};

const family = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** A socket address as Node reports it, IPv4-mapped IPv6 unwrapped. */
const plain = (address: string): string => address.replace(/^::ffff:(?=\d+\.)/i, '');

/** True for an entry of LIVEKIT_JWT_TRUST_PROXY that is a host name, not an address or keyword. */
export function isProxyName(entry: string): boolean {
  return !(entry in KEYWORDS) && isIP(entry.split('/')[0] ?? '') === 0;
}

/**
 * Whose `X-Forwarded-For` livekit-jwt believes, for LIVEKIT_JWT_TRUST_PROXY lists that name a
 * proxy by host name (the compose bundle names its Traefik: `traefik`, Runtipi's
 * `runtipi-reverse-proxy`). Names are resolved at start and every `refreshMs`, so only the
 * proxy's current container address is trusted, not the whole shared network it sits on.
 * Addresses, CIDRs and the keywords `loopback`, `linklocal`, `uniquelocal` are matched as
 * Fastify matches them.
 */
export class TrustedProxies {
  readonly #static = new BlockList();
  readonly #names: readonly string[];
  readonly #lookup: ProxyLookup;
  #byName = new Map<string, readonly string[]>();
  #resolved = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  public constructor(entries: readonly string[], lookup: ProxyLookup = systemLookup) {
    const names: string[] = [];
    for (const entry of entries) {
      const keyword = KEYWORDS[entry];
      if (keyword !== undefined) {
        for (const [net, prefix] of keyword) this.#static.addSubnet(net, prefix, family(net));
      } else if (isProxyName(entry)) {
        names.push(entry);
      } else {
        const [address = '', bits] = entry.split('/');
        if (bits === undefined) this.#static.addAddress(address, family(address));
        else this.#static.addSubnet(address, Number(bits), family(address));
      }
    }
    this.#names = names;
    this.#lookup = lookup;
  }

  /** Fastify's `trustProxy` function: is the hop at `address` a proxy to believe? */
  public readonly trusts = (address: string): boolean => {
    const a = plain(address);
    if (isIP(a) === 0) return false;
    return this.#resolved.has(a) || this.#static.check(a, family(a));
  };

  /**
   * Resolves the names again. A name that does not resolve (proxy restarting) keeps its last
   * addresses, so a passing DNS hiccup does not merge every client into the proxy's bucket.
   */
  public async refresh(): Promise<void> {
    const byName = new Map<string, readonly string[]>();
    for (const name of this.#names) {
      try {
        byName.set(name, (await this.#lookup(name)).map(plain));
      } catch {
        byName.set(name, this.#byName.get(name) ?? []);
      }
    }
    this.#byName = byName;
    this.#resolved = new Set([...byName.values()].flat());
  }

  /** Resolves now and then every `refreshMs` until {@link TrustedProxies.stop}. */
  public async start(refreshMs = 30_000): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), refreshMs);
    this.#timer.unref();
  }

  public stop(): void {
    clearInterval(this.#timer);
  }
}

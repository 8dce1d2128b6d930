import { type DnsResolver, type SrvRecord } from './dns-resolver.ts';
import { formatAuthority, parseServerName, type ServerName } from './server-name.ts';

/** Where to send a federation request for a server name, per the server-server spec. */
export interface Destination {
  /** Host to connect to (DNS name or IP literal, no brackets). */
  readonly host: string;
  readonly port: number;
  /**
   * The `Host` header. Its host part is also the name the TLS certificate is verified against:
   * the server name or the delegated name, never an SRV target.
   */
  readonly hostHeader: string;
  /** How this destination was found, for logs: `well-known (HTTP 404) → SRV _matrix-fed._tcp.…`. */
  readonly via: string;
}

/** The outcome of fetching `https://<name>/.well-known/matrix/server`. */
export type WellKnownResult =
  { readonly delegatedTo: string; readonly ttlMs: number } | { readonly failure: string };

/** Options of {@link createServerResolver}. */
export interface ServerResolverOptions {
  readonly dns: DnsResolver;
  /** Fetches and validates the well-known document; never rejects, failures are results. */
  readonly fetchWellKnown: (hostname: string) => Promise<WellKnownResult>;
  /** How long a failed or missing well-known (and the SRV/8448 answer built on it) is kept. */
  readonly failureTtlMs: number;
  /** Most server names kept; the oldest entry goes first. */
  readonly maxEntries: number;
  readonly now?: () => number;
  /** The default federation port (8448); changeable for tests only. */
  readonly defaultPort?: number;
}

/** Resolves server names to ordered destinations; see {@link createServerResolver}. */
export interface ServerResolver {
  /** Candidate destinations, in the order to try them. */
  resolve(serverName: ServerName): Promise<readonly Destination[]>;
  /** Forgets every cached answer. */
  clear(): void;
}

interface Entry {
  expiresAt: number;
  readonly value: Promise<readonly Destination[]>;
}

/**
 * Server discovery per the server-server spec ("Resolving server names"):
 * 1. IP literal → that IP, port given or 8448. 2. Host with a port → that host and port.
 * 3. `.well-known/matrix/server` (200 only) → the delegated name, resolved by steps 1, 2, 4–6
 * with the delegated name as `Host` and TLS name. 4. SRV `_matrix-fed._tcp.<name>`.
 * 5. SRV `_matrix._tcp.<name>` (deprecated). 6. `<name>:8448`.
 * Results of steps 3–6 are cached per name: a delegation for its well-known cache lifetime,
 * anything built on a failed well-known only for `failureTtlMs`, so that an operator who fixes
 * their well-known is not locked out until a restart. Concurrent lookups of one name share one
 * fetch.
 */
export function createServerResolver(options: ServerResolverOptions): ServerResolver {
  const now = options.now ?? Date.now;
  const defaultPort = options.defaultPort ?? 8448;
  const cache = new Map<string, Entry>();

  async function viaSrv(hostname: string, prefix: string): Promise<Destination[]> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const records = await options.dns.resolveSrv(`${service}.${hostname}`).catch(() => []);
      // A lone "." target means "no service here" (RFC 2782).
      const usable = records.filter((r) => r.name !== '' && r.name !== '.');
      if (usable.length > 0) {
        const via = `${prefix}SRV ${service}.${hostname}`;
        return sortSrv(usable).map((r) => ({
          host: r.name.replace(/\.$/, ''),
          port: r.port,
          hostHeader: hostname,
          via,
        }));
      }
    }
    const via = `${prefix}no SRV, port ${defaultPort}`;
    return [{ host: hostname, port: defaultPort, hostHeader: hostname, via }];
  }

  async function discover(
    name: ServerName,
  ): Promise<{ destinations: Destination[]; ttlMs: number }> {
    const wellKnown = await options.fetchWellKnown(name.host);
    if ('failure' in wellKnown) {
      const destinations = await viaSrv(name.host, `no well-known (${wellKnown.failure}), `);
      return { destinations, ttlMs: options.failureTtlMs };
    }
    const delegated = parseServerName(wellKnown.delegatedTo);
    if (delegated === undefined) {
      const destinations = await viaSrv(name.host, 'no well-known (invalid m.server), ');
      return { destinations, ttlMs: options.failureTtlMs };
    }
    const prefix = `well-known → ${delegated.raw}, `;
    if (delegated.kind !== 'dns' || delegated.port !== undefined) {
      return { destinations: [direct(delegated, defaultPort, prefix)], ttlMs: wellKnown.ttlMs };
    }
    return { destinations: await viaSrv(delegated.host, prefix), ttlMs: wellKnown.ttlMs };
  }

  return {
    async resolve(name) {
      if (name.kind !== 'dns' || name.port !== undefined) return [direct(name, defaultPort, '')];
      const key = name.host.toLowerCase();
      const hit = cache.get(key);
      if (hit !== undefined && hit.expiresAt > now()) return hit.value;
      if (hit !== undefined) cache.delete(key);
      // Until the lookup settles, the entry lives as long as a failure would.
      const entry: Entry = {
        expiresAt: now() + options.failureTtlMs,
        value: discover(name).then(({ destinations, ttlMs }) => {
          entry.expiresAt = now() + ttlMs;
          return destinations;
        }),
      };
      entry.value.catch(() => cache.delete(key));
      cache.set(key, entry);
      while (cache.size > options.maxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
      return entry.value;
    },
    clear() {
      cache.clear();
    },
  };
}

/** Steps 1 and 2 (and 3.1, 3.2): the name itself says where to go. */
function direct(name: ServerName, defaultPort: number, prefix: string): Destination {
  return {
    host: name.host,
    port: name.port ?? defaultPort,
    hostHeader: formatAuthority(name.host, name.port),
    via: `${prefix}${name.kind === 'dns' ? 'explicit port' : 'IP literal'}`,
  };
}

/** RFC 2782 order: lowest priority first; within one priority, heavier weight first. */
function sortSrv(records: readonly SrvRecord[]): SrvRecord[] {
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
}

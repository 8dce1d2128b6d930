import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { classifyAddress } from './classify-address.ts';
import { type DnsResolver } from './dns-resolver.ts';

/** Thrown by the connector when the guard refuses every address of a destination. */
export class AddressRefusedError extends Error {
  public readonly code = 'ERR_ADDRESS_REFUSED';
  public constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** Options of {@link createGuardedConnector}. */
export interface GuardedConnectorOptions {
  /** Refuse every address that {@link classifyAddress} does not call `public`. */
  readonly guard: boolean;
  readonly resolver: DnsResolver;
  readonly connectTimeoutMs: number;
  /** Verify certificates (the default) or not (`LIVEKIT_INSECURE_SKIP_VERIFY_TLS`). */
  readonly rejectUnauthorized: boolean;
  /** Trusted CA certificates (PEM) replacing the system list, for private PKIs and tests. */
  readonly ca?: string | readonly string[] | undefined;
}

/**
 * An undici connector that resolves the host itself, checks the address it is about to connect
 * to, and only then opens the socket — to that IP, so a second DNS answer cannot differ (no DNS
 * rebinding). It sits under every connection, so well-known hosts, SRV targets, DNS answers and
 * IP literals all pass the same check. TLS still verifies the certificate against the name the
 * request's `Host` header carries (undici derives the SNI and verification name from it).
 */
export function createGuardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const base = buildConnector({
    timeout: options.connectTimeoutMs,
    rejectUnauthorized: options.rejectUnauthorized,
    ...(options.ca === undefined ? {} : { ca: [options.ca].flat() }),
    // One protocol keeps pooling simple and predictable; homeservers all speak HTTP/1.1.
    allowH2: false,
  });
  return (connectOptions, callback) => {
    const { hostname } = connectOptions;
    pickAddress(hostname, options).then(
      (address) => {
        base(
          {
            ...connectOptions,
            hostname: address,
            // Keep the certificate check on the name, not on the IP we now dial.
            servername: connectOptions.servername ?? (isIP(hostname) === 0 ? hostname : undefined),
          },
          callback,
        );
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)), null);
      },
    );
  };
}

async function pickAddress(hostname: string, options: GuardedConnectorOptions): Promise<string> {
  const literal = hostname.replace(/^\[(.*)\]$/, '$1');
  const candidates =
    isIP(literal) !== 0
      ? [literal]
      : (await options.resolver.lookup(hostname)).map((answer) => answer.address);
  if (candidates.length === 0)
    throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
  if (!options.guard) return candidates[0] as string;
  // With mixed answers, dial a public one: refusing outright would let one bad record break a
  // name, and dialling the private one is exactly what the guard is for.
  const allowed = candidates.find((address) => classifyAddress(address) === 'public');
  if (allowed !== undefined) return allowed;
  const first = candidates[0] as string;
  const where = first === literal ? first : `${hostname} (${first})`;
  throw new AddressRefusedError(
    `refused to connect to ${where}, a ${classifyAddress(first)} address`,
  );
}

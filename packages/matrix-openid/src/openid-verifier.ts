import { Agent } from 'undici';
import { type DnsResolver, systemDnsResolver } from './dns-resolver.ts';
import { fetchWellKnown } from './fetch-well-known.ts';
import { startDeadline } from './deadline.ts';
import { createGuardedConnector } from './guarded-connector.ts';
import { OpenIdError } from './openid-error.ts';
import { requestUserinfo } from './request-userinfo.ts';
import { createServerResolver, type Destination } from './server-resolver.ts';
import { formatAuthority, parseServerName } from './server-name.ts';
import { toOpenIdError } from './to-openid-error.ts';

/** Options of {@link createOpenIdVerifier}; see the package README for the reasoning. */
export interface OpenIdVerifierOptions {
  /** Lift the SSRF guard entirely (`LIVEKIT_ALLOW_PRIVATE_HOMESERVERS=true`). Default false. */
  readonly allowPrivate?: boolean;
  /** Server name → base URL serving its userinfo; skips discovery and the guard for that name. */
  readonly overrides?: ReadonlyMap<string, string>;
  /** Accept any certificate (`LIVEKIT_INSECURE_SKIP_VERIFY_TLS` with its magic value). Default false. */
  readonly insecureSkipVerifyTls?: boolean;
  /** TCP + TLS connect deadline per connection. Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Deadline for one whole verification: discovery, connect, request, body. Default 10 000 ms. */
  readonly totalTimeoutMs?: number;
  /** Cap on a userinfo or well-known body. Default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** How long a failed or missing well-known is remembered. Default 60 000 ms. */
  readonly wellKnownFailureTtlMs?: number;
  /** Server names whose discovery is cached. Default 10 000. */
  readonly maxCachedServers?: number;
  /** Most concurrent connections per destination. Default 32. */
  readonly connectionsPerOrigin?: number;
  /** DNS used for A/AAAA and SRV answers. Default: the system resolver. */
  readonly dns?: DnsResolver;
  /** Trusted CA certificates (PEM) instead of the system's, for a private PKI. */
  readonly ca?: string | readonly string[];
  /** Port of `.well-known/matrix/server` (443) and the federation default (8448); for tests. */
  readonly ports?: { readonly wellKnown?: number; readonly federation?: number };
  readonly userAgent?: string;
}

/** What {@link OpenIdVerifier.verify} needs: the two fields of the client's OpenID token. */
export interface OpenIdTokenInput {
  readonly accessToken: string;
  readonly serverName: string;
}

/** A verified OpenID token: the Matrix user it belongs to. */
export interface OpenIdIdentity {
  readonly sub: string;
}

/** Verifies Matrix OpenID tokens; holds the connection pools and the discovery cache. */
export interface OpenIdVerifier {
  /** Resolves with the token's user, or rejects with an {@link OpenIdError}. */
  verify(input: OpenIdTokenInput): Promise<OpenIdIdentity>;
  /** Closes every pooled connection. */
  close(): Promise<void>;
}

// Homeserver access tokens are tens of characters; a cap keeps junk out of URLs and logs.
const MAX_TOKEN_LENGTH = 4096;
const RETRYABLE: ReadonlySet<string> = new Set(['unreachable', 'refused_by_policy']);

/**
 * Creates a verifier. Every userinfo request goes through an undici Agent whose connector
 * checks the address it dials (see `createGuardedConnector`), so connections are pooled and
 * reused across verifications while the guard still sees every new socket.
 *
 * @throws TypeError when an override base URL is not an absolute URL (use
 *   `parseOpenIdOverrides` to validate `LIVEKIT_OPENID_OVERRIDES` with a clear message).
 */
export function createOpenIdVerifier(options: OpenIdVerifierOptions = {}): OpenIdVerifier {
  const totalTimeoutMs = options.totalTimeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  // Parsed once: a malformed override URL fails here, at start-up, not on a user's request.
  const overrides = new Map(
    [...(options.overrides ?? [])].map(([name, base]) => {
      const url = new URL(base);
      const target = { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
      return [name, { ...target, context: `userinfo for ${name} at override ${url.host}` }];
    }),
  );
  const userAgent = options.userAgent ?? 'rtc-sidecars-matrix-openid';
  const dns = options.dns ?? systemDnsResolver;
  const agentFor = (guard: boolean): Agent =>
    new Agent({
      connect: createGuardedConnector({
        guard,
        resolver: dns,
        connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
        rejectUnauthorized: options.insecureSkipVerifyTls !== true,
        ca: options.ca,
      }),
      connections: options.connectionsPerOrigin ?? 32,
      keepAliveTimeout: 30_000,
      headersTimeout: totalTimeoutMs,
      bodyTimeout: totalTimeoutMs,
    });
  const open = agentFor(false);
  const guarded = options.allowPrivate === true ? open : agentFor(true);
  const resolver = createServerResolver({
    dns,
    fetchWellKnown: (hostname) =>
      fetchWellKnown(hostname, {
        dispatcher: guarded,
        // Half the budget, so a hanging well-known still leaves time for the SRV/8448 fallback.
        timeoutMs: Math.floor(totalTimeoutMs / 2),
        maxBodyBytes,
        port: options.ports?.wellKnown ?? 443,
        userAgent,
        now: Date.now,
      }),
    failureTtlMs: options.wellKnownFailureTtlMs ?? 60_000,
    maxEntries: options.maxCachedServers ?? 10_000,
    defaultPort: options.ports?.federation,
  });

  async function verifyOnce(input: OpenIdTokenInput, signal: AbortSignal): Promise<OpenIdIdentity> {
    const { accessToken, serverName } = input;
    const name = typeof serverName === 'string' ? parseServerName(serverName) : undefined;
    if (name === undefined) throw new OpenIdError('refused_by_policy', 'invalid server name');
    if (
      typeof accessToken !== 'string' ||
      accessToken === '' ||
      accessToken.length > MAX_TOKEN_LENGTH ||
      !accessToken.isWellFormed()
    ) {
      // No homeserver issues such a token; asking one would only put garbage in a URL.
      throw new OpenIdError('rejected', `unusable access token for ${serverName}`);
    }
    const common = { accessToken, serverName, signal, maxBodyBytes, userAgent };
    const override = overrides.get(serverName);
    if (override !== undefined) {
      return requestUserinfo({ ...common, ...override, dispatcher: open, hostHeader: undefined });
    }
    let destinations: readonly Destination[];
    try {
      destinations = await abortable(resolver.resolve(name), signal);
    } catch (error) {
      const context = `discovery of ${serverName}`;
      throw toOpenIdError(error, context, { timedOut: signal.aborted, secret: accessToken });
    }
    let first: OpenIdError | undefined;
    for (const d of destinations) {
      try {
        return await requestUserinfo({
          ...common,
          dispatcher: guarded,
          origin: `https://${formatAuthority(d.host, d.port)}`,
          pathPrefix: '',
          hostHeader: d.hostHeader,
          context: `userinfo for ${serverName} at ${formatAuthority(d.host, d.port)} [${d.via}]`,
        });
      } catch (error) {
        // Only a target we could not talk to (or may not) sends us to the next SRV target; an
        // answer, even a bad one, is final.
        const next = error instanceof OpenIdError && RETRYABLE.has(error.kind) && !signal.aborted;
        if (!next) throw error;
        first ??= error;
      }
    }
    throw first ?? new OpenIdError('unreachable', `no destination for ${serverName}`);
  }

  return {
    async verify(input) {
      const deadline = startDeadline(totalTimeoutMs);
      try {
        return await verifyOnce(input, deadline.signal);
      } finally {
        deadline.release();
        // undici hands a keep-alive socket back to its pool one event-loop turn after the
        // response ends (client-h1 `setImmediate(kResume)`). Yielding that turn before answering
        // lets a caller's next verification reuse the socket instead of opening a second one.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
    async close() {
      await Promise.all(guarded === open ? [open.close()] : [open.close(), guarded.close()]);
    },
  };
}

/** Races a shared promise against one caller's deadline without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

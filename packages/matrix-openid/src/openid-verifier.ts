import { Agent, type Dispatcher } from 'undici';
import { type DnsResolver, systemDnsResolver } from './dns-resolver.ts';
import { fetchWellKnown } from './fetch-well-known.ts';
import { createGuardedConnector } from './guarded-connector.ts';
import { OpenIdError } from './openid-error.ts';
import { discardBody, readCappedBody } from './read-capped-body.ts';
import { createServerResolver, type Destination } from './server-resolver.ts';
import { parseServerName } from './server-name.ts';
import { toOpenIdError } from './to-openid-error.ts';
import { parseUserId } from './user-id.ts';

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

const USERINFO_PATH = '/_matrix/federation/v1/openid/userinfo';
const REJECTED_STATUSES = new Set([401, 403, 404]);

/**
 * Creates a verifier. Every userinfo request goes through an undici Agent whose connector
 * checks the address it dials (see `createGuardedConnector`), so connections are pooled and
 * reused across verifications while the guard still sees every new socket.
 */
export function createOpenIdVerifier(options: OpenIdVerifierOptions = {}): OpenIdVerifier {
  const totalTimeoutMs = options.totalTimeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const overrides = options.overrides ?? new Map<string, string>();
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
        timeoutMs: totalTimeoutMs,
        maxBodyBytes,
        port: options.ports?.wellKnown ?? 443,
        userAgent,
        now: Date.now,
      }),
    failureTtlMs: options.wellKnownFailureTtlMs ?? 60_000,
    maxEntries: options.maxCachedServers ?? 10_000,
    defaultPort: options.ports?.federation,
  });

  async function verifyOnce(input: OpenIdTokenInput): Promise<OpenIdIdentity> {
    const { accessToken, serverName } = input;
    const name = typeof serverName === 'string' ? parseServerName(serverName) : undefined;
    if (name === undefined) throw new OpenIdError('refused_by_policy', 'invalid server name');
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new OpenIdError('rejected', `empty access token for ${serverName}`);
    }
    const deadline = AbortSignal.timeout(totalTimeoutMs);
    const query = `?access_token=${encodeURIComponent(accessToken)}`;
    const override = overrides.get(serverName);
    if (override !== undefined) {
      const base = new URL(override);
      const target = {
        origin: base.origin,
        path: `${base.pathname.replace(/\/$/, '')}${USERINFO_PATH}${query}`,
      };
      return userinfo(open, target, undefined, `userinfo at override ${base.host}`);
    }
    let destinations: readonly Destination[];
    try {
      destinations = await abortable(resolver.resolve(name), deadline);
    } catch (error) {
      throw toOpenIdError(error, `discovery of ${serverName}`, {
        timedOut: deadline.aborted,
        secret: accessToken,
      });
    }
    let last: OpenIdError | undefined;
    for (const d of destinations) {
      const target = {
        origin: `https://${formatHost(d.host)}:${d.port}`,
        path: `${USERINFO_PATH}${query}`,
      };
      try {
        return await userinfo(
          guarded,
          target,
          d.hostHeader,
          `userinfo at ${d.hostHeader} via ${d.host}:${d.port}`,
        );
      } catch (error) {
        if (!(error instanceof OpenIdError) || error.kind !== 'unreachable') throw error;
        last = error; // try the next SRV target
      }
    }
    throw last ?? new OpenIdError('unreachable', `no destination for ${serverName}`);

    async function userinfo(
      dispatcher: Dispatcher,
      target: { origin: string; path: string },
      hostHeader: string | undefined,
      context: string,
    ): Promise<OpenIdIdentity> {
      let text: string;
      let status: number;
      try {
        const response = await dispatcher.request({
          ...target,
          method: 'GET',
          headers: {
            'user-agent': userAgent,
            ...(hostHeader === undefined ? {} : { host: hostHeader }),
          },
          signal: deadline,
        });
        status = response.statusCode;
        if (status < 200 || status > 299) {
          const errcode = await errcodeOf(response.body);
          const kind = REJECTED_STATUSES.has(status) ? 'rejected' : 'bad_response';
          throw new OpenIdError(kind, `${context}: HTTP ${status}${errcode}`);
        }
        text = await readCappedBody(
          response.body,
          maxBodyBytes,
          response.headers['content-length'],
        );
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'ERR_BODY_TOO_LARGE') {
          throw new OpenIdError('bad_response', `${context}: body over ${maxBodyBytes} bytes`);
        }
        throw toOpenIdError(error, context, { timedOut: deadline.aborted, secret: accessToken });
      }
      return checkSub(text, context);
    }

    async function errcodeOf(body: Dispatcher.ResponseData['body']): Promise<string> {
      try {
        const json: unknown = JSON.parse(await readCappedBody(body, maxBodyBytes, undefined));
        const errcode = (json as { errcode?: unknown } | null)?.errcode;
        // Only a well-formed errcode goes into logs: the rest of the body is the server's text.
        return typeof errcode === 'string' && /^M_[A-Z_]{1,64}$/.test(errcode) ? ` ${errcode}` : '';
      } catch {
        await discardBody(body, maxBodyBytes);
        return '';
      }
    }

    function checkSub(text: string, context: string): OpenIdIdentity {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new OpenIdError('bad_response', `${context}: body is not JSON`);
      }
      const sub = (json as { sub?: unknown } | null)?.sub;
      const user = parseUserId(sub);
      if (user === undefined)
        throw new OpenIdError('bad_response', `${context}: missing or invalid "sub"`);
      if (user.serverName.raw !== serverName) {
        throw new OpenIdError(
          'server_mismatch',
          `${context}: "sub" ${user.raw} is not on ${serverName}`,
        );
      }
      return { sub: user.raw };
    }
  }

  return {
    async verify(input) {
      try {
        return await verifyOnce(input);
      } finally {
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

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
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

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Default and suggested upper bound for a credential's lifetime: 24 hours. */
export const DEFAULT_MAX_TTL_SECONDS = 86_400;

/** A credential set exactly as the Matrix `GET /voip/turnServer` endpoint returns it. */
export interface TurnCredentials {
  /** `"<expiry>:<user>"`, or `"<expiry>"` when no user was given; expiry is absolute Unix seconds. */
  readonly username: string;
  /** `base64(HMAC-SHA1(secret, username))`, standard alphabet with padding (28 characters). */
  readonly password: string;
  /** Seconds the credential stays valid from `now`. */
  readonly ttl: number;
  /** The TURN URIs to hand out with it (empty when none were given). */
  readonly uris: readonly string[];
}

/** Input of {@link createTurnCredentials}. */
export interface CreateTurnCredentialsOptions {
  /** The shared secret, the same bytes as coturn's `static-auth-secret`. */
  readonly secret: string;
  /** Who the credential is for (a Matrix user ID); omitted means an expiry-only username. */
  readonly user?: string;
  /** Lifetime in whole seconds, 1 … `maxTtlSeconds`. */
  readonly ttlSeconds: number;
  /** The issuing clock: a `Date` or milliseconds since the epoch (as `Date.now()`). */
  readonly now: Date | number;
  /** TURN URIs passed through to the result. */
  readonly uris?: readonly string[];
  /** Upper bound for `ttlSeconds`; coturn has none of its own. Defaults to 24 h. */
  readonly maxTtlSeconds?: number;
}

/** A credential request or check that cannot be honoured, with the reason in the message. */
export class TurnCredentialError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'TurnCredentialError';
  }
}

function unixSeconds(now: Date | number): number {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new TurnCredentialError('now is not a valid time');
  return Math.floor(ms / 1000);
}

/** `base64(HMAC-SHA1(secret, username))`: the password coturn derives in `use-auth-secret` mode. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * Mints a time-limited TURN credential the way coturn's `use-auth-secret` mode, Synapse and
 * continuwuity expect it. The expiry goes first so that the colons of a Matrix ID do not confuse
 * coturn's parser, which takes the digits before the first `:` as the expiry.
 *
 * @throws {@link TurnCredentialError} for an empty secret or user, or a TTL that is not an integer
 * in 1 … `maxTtlSeconds` (coturn would accept any expiry, so the cap has to live here).
 */
export function createTurnCredentials(options: CreateTurnCredentialsOptions): TurnCredentials {
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (!Number.isInteger(maxTtl) || maxTtl < 1) {
    throw new TurnCredentialError(`maxTtlSeconds must be a positive integer, got ${maxTtl}`);
  }
  const ttl = options.ttlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new TurnCredentialError(`ttlSeconds must be a positive whole number, got ${ttl}`);
  }
  if (ttl > maxTtl) {
    throw new TurnCredentialError(
      `ttlSeconds ${ttl} exceeds the maximum of ${maxTtl} s; coturn never caps an expiry, ` +
        'so a long-lived credential stays usable after it leaks',
    );
  }
  if (options.secret.length === 0) throw new TurnCredentialError('the TURN secret is empty');
  if (options.user !== undefined && options.user.length === 0) {
    throw new TurnCredentialError('user is empty; omit it for an expiry-only username');
  }
  const expiry = unixSeconds(options.now) + ttl;
  const username = options.user === undefined ? `${expiry}` : `${expiry}:${options.user}`;
  return {
    username,
    password: turnPassword(options.secret, username),
    ttl,
    uris: [...(options.uris ?? [])],
  };
}

/** Input of {@link verifyTurnCredentials}. */
export interface VerifyTurnCredentialsOptions {
  readonly username: string;
  readonly password: string;
  /** Every secret currently accepted (new and retired-but-still-valid during a rotation). */
  readonly secrets: readonly string[];
  /** The checking clock: a `Date` or milliseconds since the epoch. */
  readonly now: Date | number;
  /** When set, an expiry further ahead than this many seconds is refused. */
  readonly maxTtlSeconds?: number;
}

/** Outcome of {@link verifyTurnCredentials}. */
export type TurnCredentialCheck =
  | {
      readonly ok: true;
      /** Absolute expiry, Unix seconds. */
      readonly expiry: number;
      readonly user: string | undefined;
      /** Index into `secrets` of the secret that signed the credential. */
      readonly secretIndex: number;
    }
  | {
      readonly ok: false;
      readonly reason: 'malformed' | 'expired' | 'too-long' | 'bad-password';
      readonly message: string;
    };

/**
 * Parses the expiry out of a REST username with coturn's rules: the digits before the first `:`,
 * else the digits after it (`user:expiry`), else the whole username.
 */
export function parseTurnUsername(
  username: string,
): { expiry: number; user: string | undefined } | undefined {
  const digits = /^\d{1,15}$/;
  const sep = username.indexOf(':');
  if (sep === -1)
    return digits.test(username) ? { expiry: Number(username), user: undefined } : undefined;
  const head = username.slice(0, sep);
  const tail = username.slice(sep + 1);
  if (digits.test(head)) return { expiry: Number(head), user: tail };
  if (digits.test(tail)) return { expiry: Number(tail), user: head };
  return undefined;
}

/**
 * Checks a credential as coturn would: the expiry must not be in the past (by the checker's
 * clock), and the password must match the HMAC under any one of `secrets`.
 */
export function verifyTurnCredentials(options: VerifyTurnCredentialsOptions): TurnCredentialCheck {
  const parsed = parseTurnUsername(options.username);
  if (parsed === undefined) {
    return { ok: false, reason: 'malformed', message: 'the username carries no expiry timestamp' };
  }
  const now = unixSeconds(options.now);
  if (parsed.expiry < now) {
    return { ok: false, reason: 'expired', message: `expired ${now - parsed.expiry} s ago` };
  }
  if (options.maxTtlSeconds !== undefined && parsed.expiry - now > options.maxTtlSeconds) {
    return {
      ok: false,
      reason: 'too-long',
      message: `expires in ${parsed.expiry - now} s, more than the maximum ${options.maxTtlSeconds} s`,
    };
  }
  const given = Buffer.from(options.password);
  const secretIndex = options.secrets.findIndex((secret) => {
    if (secret.length === 0) return false;
    const expected = Buffer.from(turnPassword(secret, options.username));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (secretIndex === -1) {
    return {
      ok: false,
      reason: 'bad-password',
      message: 'no configured secret signed this credential',
    };
  }
  return { ok: true, expiry: parsed.expiry, user: parsed.user, secretIndex };
}

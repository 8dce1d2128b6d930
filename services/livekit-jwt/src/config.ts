import { readFileSync } from 'node:fs';
import {
  boolean,
  ConfigError,
  type ConfigIssue,
  type ConfigOf,
  ConfigValueError,
  type Env,
  integer,
  loadConfig,
  string,
} from '@rtc-sidecars/config';
import { parseOpenIdOverrides } from '@rtc-sidecars/matrix-openid';
import {
  type ListenAddress,
  type LogLevel,
  resolveApiUrl,
  resolveListen,
  resolveLogLevel,
  resolveTrustProxy,
} from './config-values.ts';
import { parseFullAccessList } from './tokens/full-access.ts';
import { resolveCredentials } from './credentials.ts';

/** The only value of `LIVEKIT_INSECURE_SKIP_VERIFY_TLS` that turns verification off. */
export const SKIP_VERIFY_MAGIC = 'YES_I_KNOW_WHAT_I_AM_DOING';

/** LiveKit recommends API secrets of at least this many characters. */
export const MIN_SECRET_LENGTH = 32;

/**
 * Default load-shedding threshold: a mean event-loop delay this long means requests are queueing
 * faster than they are served (see RELIABILITY.md §4 for the measurement behind it).
 */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 1000;

/** Everything the service needs, validated once at start-up. */
export interface ServiceConfig {
  /** Returned to clients byte for byte. */
  readonly livekitUrl: string;
  /** Where the service itself calls the SFU's RoomService (HTTP(S), path prefix kept). */
  readonly apiUrl: string;
  readonly key: string;
  readonly secret: string;
  readonly fullAccessHomeservers: readonly string[];
  readonly listen: ListenAddress;
  readonly insecureSkipVerifyTls: boolean;
  readonly logLevel: LogLevel;
  readonly allowPrivateHomeservers: boolean;
  readonly openIdOverrides: ReadonlyMap<string, string>;
  readonly allowRemotePublish: boolean;
  readonly canUpdateOwnMetadata: boolean;
  /** Token requests per minute per client IP; 0 disables the limit. */
  readonly rateLimitPerMinute: number;
  /** Fastify `trustProxy`: whose `X-Forwarded-For` to believe when finding the client IP. */
  readonly trustProxy: boolean | readonly string[];
  /** `LIVEKIT_CS_API_URL_OVERRIDES`: server name → client-server API base URL. */
  readonly csApiOverrides: ReadonlyMap<string, string>;
  /** `LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS`; 0 = off. */
  readonly sanityCheckIntervalSeconds: number;
  /** Mean event-loop delay (ms) above which requests are shed with 503; 0 disables shedding. */
  readonly maxEventLoopDelayMs: number;
  /** Unanswered token requests above which new ones are shed with 503; 0 = no limit. */
  readonly maxInFlight: number;
  /** `LIVEKIT_REDIS_URL`: where jobs are shared between replicas; in memory when unset. */
  readonly redisUrl: string | undefined;
}

/** A loaded configuration plus warnings to log once the logger exists. */
export interface LoadedConfig {
  readonly config: ServiceConfig;
  readonly warnings: readonly string[];
}

const schema = {
  livekitUrl: string('LIVEKIT_URL'),
  apiUrl: string('LIVEKIT_API_URL').optional(),
  key: string('LIVEKIT_KEY').optional(),
  secret: string('LIVEKIT_SECRET').optional(),
  keyFromFile: string('LIVEKIT_KEY_FROM_FILE').optional(),
  secretFromFile: string('LIVEKIT_SECRET_FROM_FILE').optional(),
  keyFile: string('LIVEKIT_KEY_FILE').optional(),
  fullAccess: string('LIVEKIT_FULL_ACCESS_HOMESERVERS'),
  bind: string('LIVEKIT_JWT_BIND').optional(),
  port: integer('LIVEKIT_JWT_PORT', { min: 0, max: 65535 }).optional(),
  skipVerify: string('LIVEKIT_INSECURE_SKIP_VERIFY_TLS').optional(),
  logLevel: string('LIVEKIT_LOG_LEVEL').optional(),
  allowPrivate: boolean('LIVEKIT_ALLOW_PRIVATE_HOMESERVERS').default(false),
  overrides: string('LIVEKIT_OPENID_OVERRIDES').refine(parseOverrides).optional(),
  allowRemotePublish: boolean('LIVEKIT_ALLOW_REMOTE_PUBLISH').default(false),
  canUpdateOwnMetadata: string('LIVEKIT_CAN_UPDATE_OWN_METADATA').optional(),
  rateLimit: integer('LIVEKIT_JWT_RATE_LIMIT', { min: 0, max: 1_000_000 }).default(300),
  csApiOverrides: string('LIVEKIT_CS_API_URL_OVERRIDES').refine(parseOverrides).optional(),
  sanityCheck: integer('LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS', { min: 0, max: 86_400 }).default(0),
  maxEventLoopDelay: integer('LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS', {
    min: 0,
    max: 60_000,
  }).default(DEFAULT_MAX_EVENT_LOOP_DELAY_MS),
  maxInFlight: integer('LIVEKIT_JWT_MAX_IN_FLIGHT', { min: 0, max: 1_000_000 }).default(256),
  // Secret: the URL may carry a password (`redis://:password@host`), so it is never echoed and
  // may come from LIVEKIT_REDIS_URL_FILE.
  redisUrl: string('LIVEKIT_REDIS_URL').secret().refine(parseRedisUrl).optional(),
};

/** Accepts `redis://` and `rediss://` (TLS) URLs, as go-redis does for the reference. */
function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigValueError('is not a URL (expected redis://[:password@]host[:port][/db])');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigValueError('must start with redis:// or rediss://');
  }
  if (url.hostname === '') throw new ConfigValueError('names no host');
  if (!/^\/?\d*$/.test(url.pathname))
    throw new ConfigValueError('has a path that is not a database number');
  return raw;
}

function parseOverrides(raw: string): ReadonlyMap<string, string> {
  try {
    return parseOpenIdOverrides(raw);
  } catch (err) {
    throw new ConfigValueError((err as Error).message);
  }
}

/**
 * Reads the service configuration from `env` with the reference's variable names and start-up
 * failures, plus ours. `readFile` reads the `*_FROM_FILE` and `LIVEKIT_KEY_FILE` files.
 *
 * @throws ConfigError naming every bad variable.
 */
export function loadServiceConfig(
  env: Env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): LoadedConfig {
  const warnings: string[] = [];
  const issues: ConfigIssue[] = [];
  let raw: ConfigOf<typeof schema> | undefined;
  try {
    raw = loadConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  // The cross-variable rules read the environment directly, so one run reports every problem.
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const credentials = resolveCredentials(
    {
      key: text('LIVEKIT_KEY'),
      secret: text('LIVEKIT_SECRET'),
      keyFromFile: text('LIVEKIT_KEY_FROM_FILE'),
      secretFromFile: text('LIVEKIT_SECRET_FROM_FILE'),
      keyFile: text('LIVEKIT_KEY_FILE'),
    },
    readFile,
    issues,
  );
  const livekitUrl = text('LIVEKIT_URL');
  const apiUrl =
    livekitUrl === undefined
      ? undefined
      : resolveApiUrl(livekitUrl, text('LIVEKIT_API_URL'), issues);
  const listen = resolveListen(
    text('LIVEKIT_JWT_BIND'),
    raw?.port,
    text('LIVEKIT_JWT_PORT'),
    issues,
    warnings,
  );
  const trustProxy = resolveTrustProxy(text('LIVEKIT_JWT_TRUST_PROXY'), issues);
  const fullAccess = text('LIVEKIT_FULL_ACCESS_HOMESERVERS');
  if (fullAccess !== undefined && parseFullAccessList(fullAccess).length === 0) {
    issues.push({ variable: 'LIVEKIT_FULL_ACCESS_HOMESERVERS', message: 'lists no homeserver' });
  }
  if (issues.length > 0 || raw === undefined || !credentials || apiUrl === undefined || !listen) {
    throw new ConfigError(issues);
  }
  const derived = { ...credentials, apiUrl, listen, trustProxy };

  const insecureSkipVerifyTls = raw.skipVerify === SKIP_VERIFY_MAGIC;
  if (insecureSkipVerifyTls) {
    warnings.push(
      'LIVEKIT_INSECURE_SKIP_VERIFY_TLS is set: homeserver TLS certificates are NOT verified',
    );
  } else if (raw.skipVerify !== undefined) {
    warnings.push(
      `LIVEKIT_INSECURE_SKIP_VERIFY_TLS is ignored: only ${SKIP_VERIFY_MAGIC} enables it`,
    );
  }
  if (derived.secret.length < MIN_SECRET_LENGTH) {
    warnings.push(
      `the LiveKit API secret has ${derived.secret.length} characters; LiveKit recommends at least ${MIN_SECRET_LENGTH}. Generate a longer one.`,
    );
  }
  return {
    config: Object.freeze({
      livekitUrl: raw.livekitUrl,
      ...derived,
      fullAccessHomeservers: parseFullAccessList(raw.fullAccess),
      insecureSkipVerifyTls,
      logLevel: resolveLogLevel(raw.logLevel, warnings),
      allowPrivateHomeservers: raw.allowPrivate,
      openIdOverrides: raw.overrides ?? new Map<string, string>(),
      allowRemotePublish: raw.allowRemotePublish,
      canUpdateOwnMetadata: raw.canUpdateOwnMetadata?.toLowerCase() === 'true',
      rateLimitPerMinute: raw.rateLimit,
      csApiOverrides: raw.csApiOverrides ?? new Map<string, string>(),
      sanityCheckIntervalSeconds: raw.sanityCheck,
      maxEventLoopDelayMs: raw.maxEventLoopDelay,
      maxInFlight: raw.maxInFlight,
      redisUrl: raw.redisUrl,
    }),
    warnings,
  };
}

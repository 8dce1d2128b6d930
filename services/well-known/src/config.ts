import {
  bind,
  boolean,
  type ConfigOf,
  type Env,
  type EnvVar,
  insecureHttpIssue,
  integer,
  invalid,
  json,
  list,
  loadConfig,
  oneOf,
  parseUrl,
  string,
  url,
} from '@rtc-sidecars/config';
import { serverNameIssue } from './server-name.ts';
import { parseSupportContacts } from './support-contacts.ts';

/** Keys of the client document the service writes itself; `WELL_KNOWN_CLIENT_EXTRA` may not. */
export const RESERVED_CLIENT_KEYS: readonly string[] = [
  'm.homeserver',
  'm.identity_server',
  'org.matrix.msc4143.rtc_foci',
];

/**
 * Every environment variable the service reads, with its parser and default. Client-facing URLs
 * must be https unless their host is loopback or `allowInsecureHttp` is set; checking this in
 * each parser (rather than after all parsed) lets one start-up report every bad variable.
 */
// eslint-disable-next-line @typescript-eslint/explicit-function-return-type -- the inferred schema type is the point
export function wellKnownSchema(allowInsecureHttp: boolean) {
  const publicUrl = (name: string): EnvVar<string> =>
    url(name).refine((v) => secure(v, allowInsecureHttp));
  return {
    bind: bind('WELL_KNOWN_BIND').default({ host: '0.0.0.0', port: 8080 }),
    homeserverBaseUrl: publicUrl('WELL_KNOWN_HOMESERVER_BASE_URL'),
    server: string('WELL_KNOWN_SERVER')
      .refine((v) => {
        const issue = serverNameIssue(v);
        return issue === undefined ? v : invalid(issue);
      })
      .optional(),
    livekitServiceUrls: list('WELL_KNOWN_LIVEKIT_SERVICE_URLS')
      .refine((items) => Object.freeze(items.map((i) => secure(parseUrl(i), allowInsecureHttp))))
      .optional(),
    identityServerBaseUrl: publicUrl('WELL_KNOWN_IDENTITY_SERVER_BASE_URL').optional(),
    clientExtra: json('WELL_KNOWN_CLIENT_EXTRA', (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        return invalid('must be a JSON object, e.g. {"io.element.e2ee":{"default":true}}');
      }
      const clash = Object.keys(v).filter((k) => RESERVED_CLIENT_KEYS.includes(k));
      if (clash.length > 0) {
        return invalid(`must not set ${clash.join(', ')}: use the dedicated variables`);
      }
      return Object.freeze(v as Record<string, unknown>);
    }).optional(),
    supportPage: publicUrl('WELL_KNOWN_SUPPORT_PAGE').optional(),
    supportContacts: json('WELL_KNOWN_SUPPORT_CONTACTS', parseSupportContacts).optional(),
    // Exempt from the https rule: it never reaches clients, and plain http to the homeserver
    // over the compose network (`http://continuwuity:8008`) is the intended set-up.
    homeserverInternalUrl: url('WELL_KNOWN_HOMESERVER_INTERNAL_URL').optional(),
    cacheMaxAge: integer('WELL_KNOWN_CACHE_MAX_AGE', { min: 0, max: 31_536_000 }).default(3600),
    allowInsecureHttp: boolean('WELL_KNOWN_ALLOW_INSECURE_HTTP').default(false),
    whoamiCacheSeconds: integer('WELL_KNOWN_WHOAMI_CACHE_SECONDS', { min: 0, max: 3600 }).default(
      60,
    ),
    whoamiTimeoutMs: integer('WELL_KNOWN_WHOAMI_TIMEOUT_MS', { min: 100, max: 60_000 }).default(
      5000,
    ),
    // Load shedding: above this mean event-loop delay, requests get 503 at once (0 disables).
    maxEventLoopDelayMs: integer('WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS', {
      min: 0,
      max: 60_000,
    }).default(1000),
    // Unanswered transports checks above which new ones get 503 at once (0 = no limit).
    maxInFlight: integer('WELL_KNOWN_MAX_IN_FLIGHT', { min: 0, max: 1_000_000 }).default(256),
    logLevel: oneOf('WELL_KNOWN_LOG_LEVEL', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ] as const).default('info'),
  };
}

type Schema = ReturnType<typeof wellKnownSchema>;

/** The validated, frozen settings of the service. */
export type WellKnownConfig = Omit<ConfigOf<Schema>, 'homeserverInternalUrl'> & {
  /** Where whoami is asked; the base URL unless `WELL_KNOWN_HOMESERVER_INTERNAL_URL` is set. */
  readonly homeserverInternalUrl: string;
};

/**
 * Reads and validates the service's settings from `env`.
 *
 * @throws `ConfigError` naming every bad variable, including client-facing URLs that use plain
 *   `http` for a non-loopback host while `WELL_KNOWN_ALLOW_INSECURE_HTTP` is not `true`.
 */
export function loadWellKnownConfig(env: Env): WellKnownConfig {
  const raw = loadConfig(wellKnownSchema(allowInsecure(env)), env);
  return Object.freeze({
    ...raw,
    homeserverInternalUrl: raw.homeserverInternalUrl ?? raw.homeserverBaseUrl,
  });
}

/** The insecure-HTTP switch, read first because the URL parsers depend on it. */
function allowInsecure(env: Env): boolean {
  try {
    return loadConfig({ allow: boolean('WELL_KNOWN_ALLOW_INSECURE_HTTP').default(false) }, env)
      .allow;
  } catch {
    return false; // reported by the main pass
  }
}

function secure(value: string, allowInsecureHttp: boolean): string {
  const issue = insecureHttpIssue(value, allowInsecureHttp);
  return issue === undefined ? value : invalid(issue);
}

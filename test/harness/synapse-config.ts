import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SynapseTurnOptions } from './synapse.ts';

/** What {@link synapseConfig} needs to know about one test instance. */
export interface SynapseConfigInput {
  readonly dir: string;
  readonly serverName: string;
  readonly client: number;
  readonly federation: number;
  readonly registrationSecret: string;
  readonly turn?: SynapseTurnOptions | undefined;
  readonly federationTls?: { readonly certPath: string; readonly keyPath: string } | undefined;
  /** Keep presence on (and unthrottled); off by default, as most tests have no use for it. */
  readonly presence?: boolean | undefined;
  /** MSC4140 delayed events: the longest delay a client may ask for, in ms; off when absent. */
  readonly maxEventDelayMs?: number | undefined;
}

/** Rate limits high enough that a test never waits on them. */
const unlimited = { per_second: 10_000, burst_count: 10_000 };

/**
 * homeserver.yaml for a throw-away test instance. Written as JSON (YAML is a superset), so no
 * value needs YAML escaping. The federation listener also serves `openid`, which is what exposes
 * `/_matrix/federation/v1/openid/userinfo` to a LiveKit token service.
 */
export function synapseConfig(input: SynapseConfigInput): string {
  const listener = (port: number, names: string[], tls = false) => ({
    port,
    bind_addresses: ['127.0.0.1'],
    type: 'http',
    tls,
    x_forwarded: false,
    resources: [{ names, compress: false }],
  });
  const config: Record<string, unknown> = {
    server_name: input.serverName,
    pid_file: join(input.dir, 'homeserver.pid'),
    report_stats: false,
    listeners: [
      listener(input.client, ['client']),
      listener(input.federation, ['federation', 'openid'], input.federationTls !== undefined),
    ],
    database: { name: 'sqlite3', args: { database: join(input.dir, 'homeserver.db') } },
    log_config: join(input.dir, 'log.yaml'),
    media_store_path: join(input.dir, 'media'),
    signing_key_path: join(input.dir, 'signing.key'),
    registration_shared_secret: input.registrationSecret,
    macaroon_secret_key: randomBytes(24).toString('hex'),
    form_secret: randomBytes(24).toString('hex'),
    enable_registration: false,
    // Password hashing at the minimum cost: registering and logging in are hops, not benchmarks.
    bcrypt_rounds: 4,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    presence: { enabled: input.presence === true },
    url_preview_enabled: false,
    enable_metrics: false,
    rc_message: unlimited,
    rc_registration: unlimited,
    rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
    rc_joins: { local: unlimited, remote: unlimited },
    rc_invites: { per_room: unlimited, per_user: unlimited, per_issuer: unlimited },
    rc_admin_redaction: unlimited,
  };
  if (input.presence === true) {
    // Synapse's default is one presence update per user every 10 s; a status set and then
    // restored straight away would otherwise wait on it.
    config.rc_presence = { per_user: unlimited };
  }
  if (input.maxEventDelayMs !== undefined) {
    // Synapse turns MSC4140 on only when this is set (an integer is milliseconds). Restart and
    // send stay under Synapse's own `rc_delayed_event_mgmt` limit, as in a real deployment.
    config.max_event_delay_duration = input.maxEventDelayMs;
  }
  if (input.federationTls) {
    config.tls_certificate_path = input.federationTls.certPath;
    config.tls_private_key_path = input.federationTls.keyPath;
  }
  if (input.turn) {
    config.turn_uris = input.turn.uris;
    config.turn_shared_secret = input.turn.sharedSecret;
    config.turn_user_lifetime = input.turn.userLifetime ?? '1h';
    config.turn_allow_guests = false;
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Python logging config: warnings and errors only, so a failed start is still diagnosable. */
export function synapseLogConfig(): string {
  return `${JSON.stringify(
    {
      version: 1,
      formatters: { precise: { format: '%(asctime)s %(name)s %(levelname)s %(message)s' } },
      handlers: { console: { class: 'logging.StreamHandler', formatter: 'precise' } },
      root: { level: 'WARNING', handlers: ['console'] },
      disable_existing_loggers: false,
    },
    null,
    2,
  )}\n`;
}

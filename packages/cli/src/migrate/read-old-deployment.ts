import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import YAML from 'yaml';

import { parseTurnserverConf } from '../check/turnserver-conf-file.ts';
import { parseErrorFinding } from '../check/parse-error.ts';
import { UsageError } from '../cli-error.ts';
import { deriveUrls } from '../deployment/deployment-settings.ts';
import { parseEnvFile } from '../deployment/env-file.ts';

/**
 * What `migrate` takes from a deployment of the older hand-built shape (a Runtipi app folder:
 * `app.env`, `coturn.conf`, `livekit.yaml`): `.env` values for the new deployment, and the lines
 * of the report saying what was carried over, what changed and why, and what was left behind.
 */
export interface OldDeployment {
  /** `.env` keys and values (settings and secrets) the new deployment starts from. */
  readonly env: Readonly<Record<string, string>>;
  readonly carried: readonly string[];
  readonly changed: readonly string[];
  readonly dropped: readonly string[];
  /** Where the old data lives (APP_DATA_DIR), if app.env says so. */
  readonly dataDir?: string;
  /** The old configuration folder (USER_CONFIG_DIR or the folder given). */
  readonly configDir: string;
  /** Files read, for the report. */
  readonly files: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function readOptional(dir: string, file: string): string | undefined {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : /^(true|1|yes|on)$/i.test(v.trim());

/** Reads the old deployment folder `dir`. Throws {@link UsageError} when it is not one. */
export function readOldDeployment(dir: string): OldDeployment {
  const appEnv = readOptional(dir, 'app.env');
  if (appEnv === undefined) {
    throw new UsageError(
      `${dir} has no app.env: give --from the old app's configuration folder (its USER_CONFIG_DIR)`,
    );
  }
  const old = parseEnvFile(appEnv);
  const files = ['app.env'];
  const env: Record<string, string> = {};
  const carried: string[] = [];
  const changed: string[] = [];
  const dropped: string[] = [];

  const coturnText = readOptional(dir, 'coturn.conf');
  const coturn = coturnText === undefined ? undefined : parseTurnserverConf(coturnText);
  if (coturn !== undefined) files.push('coturn.conf');
  let livekit: Record<string, unknown> | undefined;
  const livekitText = readOptional(dir, 'livekit.yaml');
  if (livekitText !== undefined) {
    try {
      const parsed: unknown = YAML.parse(livekitText);
      livekit = isRecord(parsed) ? parsed : undefined;
      files.push('livekit.yaml');
    } catch (error) {
      const f = parseErrorFinding('livekit.yaml', error);
      throw new UsageError(`${join(dir, 'livekit.yaml')}: ${f.key}: ${f.message}`);
    }
  }

  // Identity and address.
  const domain = old.APP_DOMAIN ?? old.CONDUIT_SERVER_NAME;
  if (domain === undefined || domain === '') {
    throw new UsageError(
      `${join(dir, 'app.env')} has no APP_DOMAIN: pass --domain to say which server this is`,
    );
  }
  env.SERVER_NAME = domain;
  carried.push(`server name ${domain} (APP_DOMAIN): the same Matrix IDs and the same database`);
  const ip = old.EXTERNAL_IP ?? coturn?.get('external-ip')?.[0];
  if (ip !== undefined && ip !== '') {
    env.EXTERNAL_IP = ip;
    const coturnIp = coturn?.get('external-ip')?.[0];
    carried.push(
      `public address ${ip} (EXTERNAL_IP${coturnIp === ip ? ", coturn's external-ip agrees" : ''})`,
    );
  }

  // Secrets: what existing clients and tokens were made with.
  const coturnSecret = coturn?.get('static-auth-secret')?.[0];
  const turnSecret = coturnSecret ?? old.TURN_SECRET;
  if (turnSecret !== undefined && turnSecret !== '') {
    env.TURN_SECRET = turnSecret;
    if (
      coturnSecret !== undefined &&
      old.TURN_SECRET !== undefined &&
      old.TURN_SECRET !== coturnSecret
    ) {
      changed.push(
        "TURN secret: app.env's TURN_SECRET differs from coturn.conf's static-auth-secret; the new deployment uses coturn's, the one that checked credentials",
      );
    } else {
      carried.push(
        'TURN secret (TURN_SECRET, coturn static-auth-secret): TURN credentials handed out stay valid',
      );
    }
  }
  const keys = isRecord(livekit?.keys) ? livekit.keys : {};
  const key = old.LIVEKIT_API_KEY ?? old.LIVEKIT_KEY ?? Object.keys(keys)[0];
  const secret =
    old.LIVEKIT_API_SECRET ?? old.LIVEKIT_SECRET ?? (key === undefined ? undefined : keys[key]);
  if (key !== undefined && typeof secret === 'string' && secret !== '') {
    env.LIVEKIT_KEY = key;
    env.LIVEKIT_SECRET = secret;
    const agrees = keys[key] === secret ? ' = livekit.yaml keys' : '';
    carried.push(
      `LiveKit key ${key} and its secret (LIVEKIT_API_KEY/LIVEKIT_API_SECRET${agrees}), now LIVEKIT_KEY/LIVEKIT_SECRET: tokens in use stay valid`,
    );
  }

  // TURN host and port: the URIs clients already have.
  const realm = coturn?.get('realm')?.[0];
  if (realm !== undefined && realm !== domain) {
    env.TURN_HOST = realm;
    carried.push(`TURN host ${realm} (coturn realm): the same TURN URIs`);
  }
  const turnPort = coturn?.get('listening-port')?.[0];
  if (turnPort !== undefined) env.TURN_PORT = turnPort;

  // LiveKit's media ports: the firewall is already open for them.
  const rtc = isRecord(livekit?.rtc) ? livekit.rtc : {};
  const tcp = rtc.tcp_port;
  const start = rtc.port_range_start;
  const end = rtc.port_range_end;
  if (typeof tcp === 'number') env.LIVEKIT_RTC_TCP_PORT = String(tcp);
  if (typeof start === 'number' && typeof end === 'number') {
    env.LIVEKIT_RTC_UDP_PORT_START = String(start);
    env.LIVEKIT_RTC_UDP_PORT_END = String(end);
  }
  if (typeof tcp === 'number' || typeof start === 'number') {
    carried.push(
      `LiveKit ports ${typeof tcp === 'number' ? `${tcp}/tcp` : ''}${typeof start === 'number' ? ` ${start}-${String(end)}/udp` : ''} (livekit.yaml rtc): the open firewall ports stay right`,
    );
  }
  const serviceUrl = deriveUrls({ serverName: domain, turnHost: domain }).livekitServiceUrl;
  if (old.LIVEKIT_JWT_SERVICE_URL !== undefined) {
    if (old.LIVEKIT_JWT_SERVICE_URL.replace(/\/+$/, '') === serviceUrl) {
      carried.push(
        `LiveKit service URL ${serviceUrl} (LIVEKIT_JWT_SERVICE_URL): clients need no change`,
      );
    } else {
      changed.push(
        `LiveKit service URL: ${old.LIVEKIT_JWT_SERVICE_URL} becomes ${serviceUrl} (announced in the well-known document and the transports endpoint, so clients follow)`,
      );
    }
  }

  // Choices that cannot stay as they were.
  const federation = truthy(old.ALLOW_FEDERATION);
  if (federation === false) {
    env.FEDERATION = 'off';
    changed.push(
      'federation: ALLOW_FEDERATION=false becomes FEDERATION=off, written as allow_federation = true with forbidden_remote_server_names = [".*"]: with federation disabled outright continuwuity drops /_matrix/federation/v1/openid/userinfo, the route the LiveKit token service checks sign-ins on, and calls fail with OPEN_ID_ERROR',
    );
  } else if (federation === true) {
    env.FEDERATION = 'on';
    carried.push('federation on (ALLOW_FEDERATION)');
  }
  const registration = truthy(old.ALLOW_REGISTRATION);
  if (registration === true) {
    env.REGISTRATION = 'token';
    changed.push(
      'registration: ALLOW_REGISTRATION=true becomes REGISTRATION=token (a generated REGISTRATION_TOKEN in .env): continuwuity refuses registration without a token unless told it is meant to be open; pass --registration open to keep it open to anyone',
    );
  } else if (registration === false) {
    env.REGISTRATION = 'off';
    carried.push('registration off (ALLOW_REGISTRATION)');
  }
  changed.push(
    'presence: CONDUIT_ALLOW_PRESENCE and CONDUIT_PRESENCE_TIMEOUT (the old compose file) are unknown to continuwuity, which ignores them (as it ignores CONDUIT_DATABASE_BACKEND); presence is now on through allow_local_presence and allow_incoming_presence, with presence_idle_timeout_s = 300',
    'well-known: the nginx container answered only /.well-known/matrix/client and /server; the well-known service also answers the MSC4143 rtc/transports endpoint, where Element Call 0.24 and later look for LiveKit, and sends CORS headers on every path',
  );
  if (livekit !== undefined) {
    const notes: string[] = [];
    if (rtc.use_external_ip === true)
      notes.push(
        `use_external_ip: true becomes node_ip: ${ip ?? 'EXTERNAL_IP'} (the address is advertised, not guessed)`,
      );
    const room = isRecord(livekit.room) ? livekit.room : {};
    if (room.auto_create === true)
      notes.push('room.auto_create: true becomes false (only the token service creates rooms)');
    const unknown = ['webrtc', 'node'].filter((k) => k in livekit);
    if (unknown.length > 0) {
      notes.push(
        `${unknown.map((k) => `${k}:`).join(' and ')} are no LiveKit settings and were ignored by LiveKit (7882/udp was never used)`,
      );
    }
    if (notes.length > 0) changed.push(`LiveKit: ${notes.join('; ')}`);
  }
  if (coturn !== undefined) {
    const relay = coturn.get('min-port') === undefined ? " (coturn's default was 49152-65535)" : '';
    changed.push(
      `coturn: relays on 49160-49200/udp${relay}, the full denied-peer-ip list, no TCP relay; TLS (5349) stays off until coturn gets a certificate; relay-ip/relay-device are dropped (host networking finds the address)`,
    );
  }
  changed.push(
    'homeserver port: continuwuity listens on 8008 inside the stack (6167 before), reached only through the proxy',
  );
  if (old.TRUSTED_SERVERS !== undefined) {
    dropped.push(
      `TRUSTED_SERVERS ${old.TRUSTED_SERVERS}: continuwuity asks trusted servers for remote signing keys; ${env.FEDERATION === 'off' ? 'with federation off there are none to ask (trusted_servers = [])' : 'the new default is matrix.org'}`,
    );
  }
  const runtipi = ['LOCAL_DOMAIN', 'APP_DATA_DIR', 'USER_CONFIG_DIR'].filter((k) => k in old);
  if (runtipi.length > 0)
    dropped.push(`${runtipi.join(', ')}: paths of the old Runtipi app, used in the steps below`);
  return {
    env,
    carried,
    changed,
    dropped,
    ...(old.APP_DATA_DIR === undefined ? {} : { dataDir: old.APP_DATA_DIR }),
    configDir: old.USER_CONFIG_DIR ?? dir,
    files,
  };
}

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpReady, type RunningProcess, startProcess } from './process.ts';
import { repoRoot } from './tools.ts';
import { synapseConfig, synapseLogConfig } from './synapse-config.ts';

/** The pinned Synapse that scripts/setup.sh installs into the git-ignored tools folder. */
export const synapsePython = join(repoRoot, '.tools', 'synapse-venv', 'bin', 'python');

/** TURN settings handed to Synapse's `/voip/turnServer`. */
export interface SynapseTurnOptions {
  readonly uris: readonly string[];
  readonly sharedSecret: string;
  /** Synapse duration string, e.g. `1h` or `30s`. */
  readonly userLifetime?: string;
}

/** Options for {@link startSynapse}. */
export interface SynapseOptions {
  readonly turn?: SynapseTurnOptions;
  /**
   * The server name. Defaults to `127.0.0.1:<federation port>`, which a Matrix server-name
   * resolver maps straight to the federation listener (explicit port, no SRV or well-known).
   */
  readonly serverName?: (ports: SynapsePorts) => string;
  /**
   * Serve the federation listener (and so OpenID userinfo) over TLS with this certificate, as a
   * real homeserver does on 8448; plain HTTP otherwise.
   */
  readonly federationTls?: { readonly certPath: string; readonly keyPath: string };
  /** Ports to listen on, when the caller must know them before Synapse starts; free ones by default. */
  readonly ports?: SynapsePorts;
  /**
   * Enable presence, without Synapse's one-update-per-10-s limit. Off by default, which is also
   * how a test shows a homeserver that answers presence updates but keeps nothing.
   */
  readonly presence?: boolean;
  /**
   * Enable MSC4140 delayed events (`max_event_delay_duration`) with this maximum delay in ms,
   * e.g. for MatrixRTC's delayed leave. Off by default, as on a Synapse with no such setting.
   */
  readonly maxEventDelayMs?: number;
}

/** Synapse's two loopback listeners. */
export interface SynapsePorts {
  readonly client: number;
  readonly federation: number;
}

/** A user registered through the shared-secret admin API. */
export interface RegisteredUser {
  readonly userId: string;
  readonly localpart: string;
  readonly password: string;
  readonly accessToken: string;
  readonly deviceId: string;
}

/** A running Synapse on loopback. */
export interface Synapse {
  readonly serverName: string;
  /** Client-server API base URL (`http://127.0.0.1:<port>`). */
  readonly baseUrl: string;
  /**
   * Federation + OpenID listener base URL (serves `/_matrix/federation/v1/openid/userinfo`):
   * `https://127.0.0.1:<port>` with {@link SynapseOptions.federationTls}, else plain HTTP.
   */
  readonly federationUrl: string;
  readonly federationPort: number;
  readonly process: RunningProcess;
  /** Registers a user with the shared secret (HMAC-SHA1 over nonce, name, password, role). */
  register(localpart: string, password?: string): Promise<RegisteredUser>;
  /** Stops the process by PID and removes its data directory. */
  stop(): Promise<void>;
}

/** Fails with a clear message (never skips) when the Synapse virtualenv is missing. */
export function requireSynapse(): string {
  if (!existsSync(synapsePython)) {
    throw new Error(
      `Synapse is not installed: ${synapsePython} is missing; run scripts/setup.sh (it creates .tools/synapse-venv)`,
    );
  }
  return synapsePython;
}

/**
 * Synapse signing key in its own file format, `ed25519 <key id> <unpadded base64 seed>`. Made
 * here with node:crypto because `--generate-keys` costs a whole extra Python start-up (~4 s).
 */
function signingKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const { d } = privateKey.export({ format: 'jwk' });
  if (d === undefined) throw new Error('ed25519 JWK without a private part');
  const seed = Buffer.from(d, 'base64url').toString('base64').replace(/=+$/, '');
  return `ed25519 a_${randomBytes(3).toString('hex')} ${seed}\n`;
}

/**
 * Starts a real Synapse (SQLite, loopback, registration by shared secret only) and waits until
 * `/_matrix/client/versions` answers.
 */
export async function startSynapse(options: SynapseOptions = {}): Promise<Synapse> {
  const python = requireSynapse();
  const dir = await mkdtemp(join(tmpdir(), 'e2e-synapse-'));
  const { client, federation } = options.ports ?? {
    client: await freePort(),
    federation: await freePort(),
  };
  const serverName = options.serverName?.({ client, federation }) ?? `127.0.0.1:${federation}`;
  const registrationSecret = randomBytes(24).toString('hex');
  await mkdir(join(dir, 'media'));
  await writeFile(join(dir, 'signing.key'), signingKey(), { mode: 0o600 });
  await writeFile(join(dir, 'log.yaml'), synapseLogConfig());
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    synapseConfig({
      dir,
      serverName,
      client,
      federation,
      registrationSecret,
      turn: options.turn,
      federationTls: options.federationTls,
      presence: options.presence,
      maxEventDelayMs: options.maxEventDelayMs,
    }),
    { mode: 0o600 },
  );
  const baseUrl = `http://127.0.0.1:${client}`;
  let proc: RunningProcess;
  try {
    proc = await startProcess(python, ['-m', 'synapse.app.homeserver', '-c', configPath], {
      cwd: dir,
      ready: () => httpReady(`${baseUrl}/_matrix/client/versions`),
      readyTimeoutMs: 60_000,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const register = async (localpart: string, password = randomBytes(12).toString('hex')) => {
    const url = `${baseUrl}/_synapse/admin/v1/register`;
    const { nonce } = (await (await fetch(url)).json()) as { nonce: string };
    const mac = createHmac('sha1', registrationSecret)
      .update([nonce, localpart, password, 'notadmin'].join('\0'))
      .digest('hex');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, username: localpart, password, admin: false, mac }),
    });
    const body = (await res.json()) as Record<string, string>;
    if (!res.ok) throw new Error(`register ${localpart}: ${res.status} ${JSON.stringify(body)}`);
    return {
      userId: body.user_id ?? '',
      localpart,
      password,
      accessToken: body.access_token ?? '',
      deviceId: body.device_id ?? '',
    };
  };

  return {
    serverName,
    baseUrl,
    federationUrl: `${options.federationTls ? 'https' : 'http'}://127.0.0.1:${federation}`,
    federationPort: federation,
    process: proc,
    register,
    stop: async () => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

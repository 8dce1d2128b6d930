import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  freeUdpRange,
  httpReady,
  requireTool,
  type RunningProcess,
  startProcess,
} from '@rtc-sidecars/test-harness';

/** A real livekit-server on loopback with a generated API key pair. */
export interface LiveKitServer {
  readonly key: string;
  readonly secret: string;
  /** Signalling URL (`ws://127.0.0.1:<port>`). */
  readonly wsUrl: string;
  /** HTTP base of the same port (RoomService). */
  readonly httpUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts livekit-server (production mode, not `--dev`) bound to 127.0.0.1 on free ports, with
 * rooms created only through the RoomService API (`room.auto_create: false`, as upstream's
 * README requires for the full-access restriction to mean anything). Stopped by PID.
 */
export async function startLiveKitServer(): Promise<LiveKitServer> {
  const binary = requireTool('livekit-server');
  const key = `API${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const port = await freePort();
  const tcpPort = await freePort();
  const udp = await freeUdpRange(20);
  const dir = await mkdtemp(join(tmpdir(), 'livekit-jwt-sfu-'));
  const configPath = join(dir, 'livekit.yaml');
  // JSON is valid YAML; the key pair stays in a 0600 file instead of the command line.
  const config = {
    port,
    rtc: {
      tcp_port: tcpPort,
      port_range_start: udp.min,
      port_range_end: udp.max,
      use_external_ip: false,
      node_ip: '127.0.0.1',
      enable_loopback_candidate: true,
      stun_servers: [],
    },
    room: { auto_create: false },
    keys: { [key]: secret },
    logging: { level: 'warn' },
  };
  await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  const httpUrl = `http://127.0.0.1:${port}`;
  let proc: RunningProcess;
  try {
    proc = await startProcess(binary, ['--config', configPath, '--bind', '127.0.0.1'], {
      cwd: dir,
      ready: () => httpReady(httpUrl),
      readyTimeoutMs: 20_000,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    key,
    secret,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl,
    stop: async () => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

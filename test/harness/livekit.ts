import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeDualPort, freePort, freeUdpRange } from './ports.ts';
import { httpReady, type RunningProcess, startProcess } from './process.ts';
import { requireTool } from './tools.ts';

/** Options for {@link startLivekit}. */
export interface LivekitOptions {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** LiveKit's `room.auto_create`; false (the production setting) unless a test needs it. */
  readonly autoCreateRooms?: boolean;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Extra `rtc:` settings merged over the defaults. */
  readonly rtc?: Readonly<Record<string, unknown>>;
  /** Where LiveKit posts its webhooks, signed with `apiKey`; none unless given. */
  readonly webhookUrls?: readonly string[];
  /**
   * A Redis (`127.0.0.1:<port>`) shared with other nodes: LiveKit's multi-node mode, where a room
   * lives on one node and clients of any node are routed to it.
   */
  readonly redisAddress?: string;
}

/** A running livekit-server on loopback. */
export interface Livekit {
  /** Signalling URL clients connect to (`ws://127.0.0.1:<port>`). */
  readonly wsUrl: string;
  /** HTTP base of the same port (RoomService twirp API). */
  readonly httpUrl: string;
  /** The UDP port media uses (the first of the range with {@link startLivekitFrom}). */
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * livekit.yaml for one test instance: everything on 127.0.0.1, one UDP port for all media
 * (UDP mux) plus ICE-TCP, no STUN lookups (there is no internet) and loopback candidates on,
 * so clients on the same machine reach it directly or through a TURN relay on loopback.
 */
export function livekitConfig(
  options: LivekitOptions,
  ports: { http: number; udp: number; tcp: number },
): string {
  return `${JSON.stringify(
    {
      port: ports.http,
      bind_addresses: ['127.0.0.1'],
      rtc: {
        udp_port: ports.udp,
        tcp_port: ports.tcp,
        use_external_ip: false,
        node_ip: '127.0.0.1',
        enable_loopback_candidate: true,
        // Only the address clients here can reach: no IPv6 or other interface candidates.
        ips: { includes: ['127.0.0.1/32'] },
        stun_servers: [],
        ...options.rtc,
      },
      room: { auto_create: options.autoCreateRooms ?? false },
      keys: { [options.apiKey]: options.apiSecret },
      ...(options.webhookUrls === undefined
        ? {}
        : { webhook: { api_key: options.apiKey, urls: options.webhookUrls } }),
      ...(options.redisAddress === undefined ? {} : { redis: { address: options.redisAddress } }),
      logging: { level: options.logLevel ?? 'warn', json: false },
    },
    null,
    2,
  )}\n`;
}

/** Ports of a livekit-server started with {@link startLivekitFrom}. */
export interface LivekitPorts {
  readonly http: number;
  readonly tcp: number;
  /** A UDP range reserved for media (one port per peer connection). */
  readonly udp: { readonly min: number; readonly max: number };
}

async function launch(
  render: (ports: LivekitPorts) => string,
  ports: LivekitPorts,
  udpPort: number,
): Promise<Livekit> {
  const binary = requireTool('livekit-server');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-livekit-'));
  const configPath = join(dir, 'livekit.yaml');
  await writeFile(configPath, render(ports), { mode: 0o600 });
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  let proc: RunningProcess;
  try {
    proc = await startProcess(binary, ['--config', configPath], {
      cwd: dir,
      ready: () => httpReady(httpUrl),
      readyTimeoutMs: 20_000,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    wsUrl: `ws://127.0.0.1:${ports.http}`,
    httpUrl,
    udpPort,
    tcpPort: ports.tcp,
    process: proc,
    stop: async () => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the real livekit-server (see `requireTool`) and waits until its HTTP port answers. */
export async function startLivekit(options: LivekitOptions): Promise<Livekit> {
  const ports = { http: await freePort(), udp: await freeDualPort(), tcp: await freePort() };
  return launch(
    () => livekitConfig(options, ports),
    { ...ports, udp: { min: ports.udp, max: ports.udp } },
    ports.udp,
  );
}

/**
 * Starts livekit-server with the config `render` returns for free ports: usually a generated
 * livekit.yaml passed through {@link onLoopback}, so the test runs the file operators get.
 */
export async function startLivekitFrom(
  render: (ports: LivekitPorts) => string,
  udpPortCount = 20,
): Promise<Livekit> {
  const ports = {
    http: await freePort(),
    tcp: await freePort(),
    udp: await freeUdpRange(udpPortCount),
  };
  return launch(render, ports, ports.udp.min);
}

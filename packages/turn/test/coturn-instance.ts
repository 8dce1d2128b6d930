import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSelfSignedCertificate,
  freeDualPort,
  freeUdpRange,
  type RunningProcess,
  requireTool,
  startProcess,
} from '@rtc-sidecars/test-harness';
import { renderTurnserverConf, type TurnserverSettings } from '../src/render-turnserver-conf.ts';
import { TurnClient } from '../src/turn-client.ts';

/** A real coturn on 127.0.0.1, configured by this package's renderer. */
export interface CoturnInstance {
  readonly port: number;
  readonly relayPorts: { readonly min: number; readonly max: number };
  readonly realm: string;
  readonly process: RunningProcess;
  /** With `tls: true`: the TLS port and the self-signed certificate (PEM) to trust. */
  readonly tls?: { readonly port: number; readonly cert: string };
  /** `turn:127.0.0.1:<port>?transport=…` */
  uri(transport: 'udp' | 'tcp'): string;
  stop(): Promise<void>;
}

/** True when a STUN Binding through our own client gets an XOR-MAPPED-ADDRESS back. */
async function answersBinding(port: number): Promise<boolean> {
  const client = await TurnClient.connect({
    uri: `stun:127.0.0.1:${port}`,
    timeoutMs: 300,
    rtoMs: 100,
  });
  try {
    await client.binding();
    return true;
  } finally {
    await client.close();
  }
}

/**
 * Starts `turnserver -c <rendered conf>` on free ports with a private work directory, waits until
 * it answers a Binding, and returns a handle that stops it by PID and removes the directory.
 */
export async function startCoturnInstance(
  settings: Omit<
    TurnserverSettings,
    'realm' | 'testOnly' | 'listeningPort' | 'relayPorts' | 'tls' | 'tlsListeningPort'
  > & {
    readonly allowLoopbackPeers: boolean;
    /** Also listen for TURN over TLS, with a fresh self-signed certificate for 127.0.0.1. */
    readonly tls?: boolean;
  },
): Promise<CoturnInstance> {
  const binary = requireTool('turnserver');
  const workDir = await mkdtemp(join(tmpdir(), 'turn-coturn-'));
  const port = await freeDualPort();
  const relayPorts = await freeUdpRange(40);
  const realm = 'turn.test';
  const { allowLoopbackPeers, tls, ...rest } = settings;
  const tlsPort = tls === true ? await freeDualPort() : undefined;
  const certificate =
    tls === true ? await createSelfSignedCertificate({ ips: ['127.0.0.1'] }) : undefined;
  if (certificate !== undefined) {
    await writeFile(join(workDir, 'cert.pem'), certificate.cert);
    await writeFile(join(workDir, 'key.pem'), certificate.key, { mode: 0o600 });
  }
  const conf = renderTurnserverConf({
    ...rest,
    ...(tlsPort === undefined
      ? {}
      : {
          tlsListeningPort: tlsPort,
          tls: { certFile: join(workDir, 'cert.pem'), keyFile: join(workDir, 'key.pem') },
        }),
    realm,
    listeningPort: port,
    relayPorts,
    logFile: 'stdout', // so a failed start or a test failure shows coturn's own words
    testOnly: { workDir, allowLoopbackPeers },
  });
  const confPath = join(workDir, 'turnserver.conf');
  await writeFile(confPath, conf, { mode: 0o600 });
  let proc: RunningProcess;
  try {
    proc = await startProcess(binary, ['-c', confPath], {
      cwd: workDir,
      ready: () => answersBinding(port),
      readyTimeoutMs: 10_000,
    });
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    relayPorts,
    realm,
    process: proc,
    ...(tlsPort === undefined || certificate === undefined
      ? {}
      : { tls: { port: tlsPort, cert: certificate.cert } }),
    uri: (transport) => `turn:127.0.0.1:${port}?transport=${transport}`,
    stop: async () => {
      await proc.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** A UDP peer on 127.0.0.1 that echoes every datagram and remembers who sent it. */
export async function startEchoPeer(): Promise<{
  socket: Socket;
  port: number;
  senders: { address: string; port: number }[];
  close(): Promise<void>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const senders: { address: string; port: number }[] = [];
  socket.on('message', (msg, from) => {
    senders.push({ address: from.address, port: from.port });
    socket.send(msg, from.port, from.address);
  });
  return {
    socket,
    port: socket.address().port,
    senders,
    close: () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  };
}

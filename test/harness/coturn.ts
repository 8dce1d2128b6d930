import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeDualPort, freeUdpRange } from './ports.ts';
import { type RunningProcess, startProcess } from './process.ts';
import { createSelfSignedCertificate } from './test-ca.ts';
import { requireTool } from './tools.ts';

/** Where a coturn instance lives; handed to the caller's config renderer. */
export interface CoturnLayout {
  /** A private directory for pid, log and user database files. */
  readonly workDir: string;
  /** STUN/TURN listening port on 127.0.0.1 (UDP and TCP). */
  readonly port: number;
  /** Relay port range, reserved for this instance. */
  readonly relayPorts: { readonly min: number; readonly max: number };
  /** With {@link CoturnOptions.tls}: the TLS port and a self-signed certificate in `workDir`. */
  readonly tls?: {
    readonly port: number;
    readonly certFile: string;
    readonly keyFile: string;
    /** The certificate (PEM), for a client to trust explicitly. */
    readonly cert: string;
  };
}

/** Options for {@link startCoturn}. */
export interface CoturnOptions {
  /** How many relay ports to reserve. Default 20; a test making many allocations wants more. */
  readonly relayPortCount?: number;
  /** Also reserve a TLS port and write a self-signed certificate for 127.0.0.1 (for `turns:`). */
  readonly tls?: boolean;
}

/** A running coturn on loopback. */
export interface Coturn extends CoturnLayout {
  readonly process: RunningProcess;
  /** coturn's log file, `workDir`/turnserver.log (it logs there in test mode, not to stdout). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * True when a STUN Binding request to 127.0.0.1:`port` gets any STUN answer: coturn is up.
 * A Binding needs no credentials, so this works before anyone has a TURN secret.
 */
export async function stunAnswers(port: number, timeoutMs = 300): Promise<boolean> {
  const sock = createSocket('udp4');
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(request, 8);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        resolve(false);
      }, timeoutMs);
      sock.once('message', (msg) => {
        clearTimeout(timer);
        resolve(msg.length >= 20 && msg.subarray(8, 20).equals(request.subarray(8, 20)));
      });
      sock.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      sock.send(request, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** Reserves a TLS port and writes a fresh certificate and key for 127.0.0.1 into `workDir`. */
async function tlsLayout(workDir: string): Promise<NonNullable<CoturnLayout['tls']>> {
  const certificate = await createSelfSignedCertificate({ ips: ['127.0.0.1'] });
  const certFile = join(workDir, 'cert.pem');
  const keyFile = join(workDir, 'key.pem');
  await writeFile(certFile, certificate.cert);
  await writeFile(keyFile, certificate.key, { mode: 0o600 });
  return { port: await freeDualPort(), certFile, keyFile, cert: certificate.cert };
}

/**
 * Starts Debian's coturn with the config `render` returns for a fresh layout (free ports, private
 * directory), and waits until it answers STUN. `render` is usually packages/turn's
 * `renderTurnserverConf` with its test-only settings, so tests run the config operators get.
 */
export async function startCoturn(
  render: (layout: CoturnLayout) => string,
  options: CoturnOptions = {},
): Promise<Coturn> {
  const binary = requireTool('turnserver');
  const workDir = await mkdtemp(join(tmpdir(), 'e2e-coturn-'));
  const layout: CoturnLayout = {
    workDir,
    port: await freeDualPort(),
    relayPorts: await freeUdpRange(options.relayPortCount ?? 20),
    ...(options.tls === true ? { tls: await tlsLayout(workDir) } : {}),
  };
  const configPath = join(workDir, 'turnserver.conf');
  await writeFile(configPath, render(layout), { mode: 0o600 });
  const logPath = join(workDir, 'turnserver.log');
  let proc: RunningProcess;
  try {
    proc = await startProcess(binary, ['-c', configPath], {
      cwd: workDir,
      ready: () => stunAnswers(layout.port),
      readyTimeoutMs: 10_000,
    });
  } catch (err) {
    const log = await readFile(logPath, 'utf8').catch(() => '');
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return {
    ...layout,
    process: proc,
    log: () => readFile(logPath, 'utf8').catch(() => ''),
    stop: async () => {
      await proc.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

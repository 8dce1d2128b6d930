import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long after a child's exit its output pipes may take to close. */
const STDIO_DRAIN_MS = 2000;

/** A child process started by a test, with its captured output. */
export interface RunningProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal name). */
  stop(graceMs?: number): Promise<number | string | null>;
  /** Resolves when the process exits by itself (and its output has been read). */
  readonly exited: Promise<number | string | null>;
}

/** Options for {@link startProcess}. */
export interface StartOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Resolves when the process is ready; it is polled until `readyTimeoutMs`. */
  readonly ready?: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
  /** Pause between two `ready` polls; default 50 ms. */
  readonly readyIntervalMs?: number;
}

/**
 * Starts `command` (never through a shell), waits until `ready` says so, and returns a handle
 * that stops it by PID. If the process exits or never gets ready, it is killed and the error
 * carries its output, so a failed start is diagnosable from the test log.
 */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): Promise<RunningProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  // Resolved once the process has exited *and* its output has been read to the end ('close'),
  // so `output()` after `exited` or `stop()` holds its last lines. A grandchild that keeps the
  // pipes open cannot hold the answer back for longer than STDIO_DRAIN_MS after the exit.
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      const drained = setTimeout(() => {
        resolve(code ?? signal);
      }, STDIO_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(drained);
        resolve(code ?? signal);
      });
    });
  });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => {
      resolve(true);
    });
    child.once('error', (err) => {
      out += String(err);
      resolve(false);
    });
  });
  if (!spawned || child.pid === undefined) throw new Error(`cannot start ${command}: ${out}`);
  const pid = child.pid;

  const stop = async (graceMs = 5000): Promise<number | string | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const handle: RunningProcess = { pid, child, output: () => out, stop, exited };
  if (options.ready) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
    const state = { gone: false };
    void exited.then(() => (state.gone = true));
    for (;;) {
      if (state.gone) throw new Error(`${command} exited before it was ready:\n${out}`);
      if (await options.ready().catch(() => false)) break;
      if (Date.now() > deadline) {
        await stop(1000);
        throw new Error(
          `${command} not ready within ${options.readyTimeoutMs ?? 15_000} ms:\n${out}`,
        );
      }
      await sleep(options.readyIntervalMs ?? 50);
    }
  }
  return handle;
}

/** True when something accepts TCP connections on `host:port`. */
export async function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      resolve(false);
    });
  });
}

/** True when `url` answers with a status below 500. */
export async function httpReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

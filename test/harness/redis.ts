import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { type RunningProcess, startProcess, tcpOpen } from './process.ts';
import { requireTool } from './tools.ts';

/** A running redis-server on loopback. */
export interface Redis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The current process; replaced by {@link Redis.restart}. */
  readonly process: RunningProcess;
  /** Stops the server (its data is kept for {@link Redis.start}). */
  kill(): Promise<void>;
  /** Starts it again on the same port, with whatever it had saved. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

/** Options for {@link startRedis}. */
export interface RedisOptions {
  /**
   * Commands the server refuses (`rename-command NAME ""`), as managed or proxy Redis offerings
   * do with e.g. `INFO`, `HELLO` or `CLIENT`: they answer "unknown command".
   */
  readonly disabledCommands?: readonly string[];
  /**
   * When given, the default user may run these commands only (an ACL `-@all +…`), scripts
   * included: whatever else a client sends gets `NOPERM`.
   */
  readonly allowedCommands?: readonly string[];
}

/**
 * Starts Debian's redis-server on 127.0.0.1 and a free port, in a private directory. Nothing is
 * saved periodically, but a clean shutdown writes a snapshot that the next {@link Redis.start}
 * loads, so tests can take Redis away and bring it back with its data (or kill it for an outage).
 */
export async function startRedis(options: RedisOptions = {}): Promise<Redis> {
  const binary = requireTool('redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'test-redis-'));
  const port = await freePort();
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    ...(options.disabledCommands ?? []).flatMap((name) => ['--rename-command', name, '']),
    ...(options.allowedCommands === undefined
      ? []
      : [
          '--user',
          'default',
          'on',
          'nopass',
          '~*',
          '&*',
          '-@all',
          ...options.allowedCommands.map((name) => `+${name.toLowerCase()}`),
        ]),
  ];
  const launch = (): Promise<RunningProcess> =>
    startProcess(binary, args, { cwd: dir, ready: () => tcpOpen(port), readyTimeoutMs: 10_000 });
  let proc = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return proc;
    },
    kill: async () => {
      await proc.stop();
    },
    start: async () => {
      proc = await launch();
    },
    stop: async () => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpReady, type RunningProcess, startProcess } from './process.ts';
import { repoRoot } from './tools.ts';

/** Options for {@link startNodeService}. */
export interface NodeServiceOptions {
  /** Folder under `services/`, e.g. `well-known`. */
  readonly name: string;
  /** The service's environment; `port` is the port it must listen on. */
  readonly env: (port: number) => Readonly<Record<string, string>>;
  /** Port to use; a free one by default. */
  readonly port?: number;
  /** Path polled until it answers below 500. Default `/healthz`. */
  readonly readyPath?: string;
}

/** A service of this repository running as its own Node process. */
export interface NodeService {
  readonly url: string;
  readonly port: number;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>` exactly as an operator does (`node --conditions=source src/server.ts`,
 * configured only through its environment), never in-process, so start-up validation, logging and
 * SIGTERM handling are all part of what a test exercises.
 */
export async function startNodeService(options: NodeServiceOptions): Promise<NodeService> {
  const entry = join(repoRoot, 'services', options.name, 'src', 'server.ts');
  if (!existsSync(entry)) throw new Error(`service ${options.name} has no ${entry}`);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess(process.execPath, ['--conditions=source', entry], {
    cwd: join(repoRoot, 'services', options.name),
    env: options.env(port),
    ready: () => httpReady(`${url}${options.readyPath ?? '/healthz'}`),
    readyTimeoutMs: 15_000,
  });
  return {
    url,
    port,
    process: proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

// Builds a service as the image does and starts it as production runs it (its start:dist
// script), pinned to the service core, timing how long it takes to answer /healthz.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { repoRoot, type RunningProcess, startProcess } from '../../test/harness/index.ts';

/** The core servers run on; the load generator has core 0 (see bench/run.ts). */
export const SERVER_CORE = '1';
/** The core of the load generator and of helper peers (a homeserver). */
export const LOAD_CORE = '0';

/** `command args` pinned to `core` with taskset, where the machine has it. */
export function pinned(core: string, command: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset')
    ? ['/usr/bin/taskset', ['-c', core, command, ...args]]
    : [command, args];
}

/** Builds the service and the workspace packages it runs with, as the image's build step does. */
export function buildService(service: string): void {
  // The pnpm running `pnpm bench` (a script or, since pnpm 11, a native executable).
  const pnpm = process.env.npm_execpath ?? 'pnpm';
  const [cmd, args] = /\.[cm]?js$/.test(pnpm) ? [process.execPath, [pnpm]] : [pnpm, []];
  const built = spawnSync(
    cmd,
    [...args, '--filter-prod', `@rtc-sidecars/${service}...`, 'run', 'build'],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  if (built.status !== 0) throw new Error(`building ${service} failed`);
}

/** The node flags and entry of a service's `start:dist` script (`node <flags> <entry>`). */
export function startDist(service: string): { flags: string[]; entry: string } {
  const pkg = JSON.parse(
    readFileSync(join(repoRoot, 'services', service, 'package.json'), 'utf8'),
  ) as { scripts: Record<string, string> };
  const words = (pkg.scripts['start:dist'] ?? '').split(' ').filter((w) => w !== '');
  const entry = words.at(-1);
  if (words[0] !== 'node' || entry === undefined) {
    throw new Error(`services/${service}: start:dist is not "node <flags> <entry>"`);
  }
  return { flags: words.slice(1, -1), entry };
}

/** A started service and how long after spawn it first answered `/healthz` with 200. */
export interface StartedService {
  readonly process: RunningProcess;
  readonly readyMs: number;
}

/**
 * Starts the built service with `flags` (default: its start:dist flags) on the server core and
 * `env`, and measures the time from spawn to the first 200 on `healthUrl` (polled every 5 ms).
 */
export async function startService(
  service: string,
  env: Record<string, string>,
  healthUrl: string,
  flags?: string[],
): Promise<StartedService> {
  const dist = startDist(service);
  const [cmd, args] = pinned(SERVER_CORE, process.execPath, [...(flags ?? dist.flags), dist.entry]);
  const spawnedAt = performance.now();
  let readyAt = NaN;
  const proc = await startProcess(cmd, args, {
    cwd: join(repoRoot, 'services', service),
    env,
    readyIntervalMs: 5,
    ready: async () => {
      const ok = await answers200(healthUrl);
      if (ok) readyAt = performance.now();
      return ok;
    },
  });
  return { process: proc, readyMs: readyAt - spawnedAt };
}

/** One GET on a fresh connection (node:http, already loaded: no lazy fetch start-up in the way). */
function answers200(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode === 200);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
  });
}

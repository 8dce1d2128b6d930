import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCli } from '../src/main.ts';

/** Output of one in-process `rtc-sidecars` run. */
export interface CliRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Runs the CLI in-process with `cwd` as its working folder and records its output. */
export async function cli(argv: readonly string[], cwd: string = tmpdir()): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd });
  return { code, out, err };
}

/** A fresh temporary folder; remove it with {@link removeDir}. */
export function tempDir(prefix = 'rtc-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a folder made by {@link tempDir}. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A public unicast address (not a documentation range, which init refuses). */
export const PUBLIC_IP = '45.67.89.10';

/**
 * Runs `rtc-sidecars init` for `hi.example.org` with {@link PUBLIC_IP} into `out`, plus any
 * `extra` flags: the deployment most tests start from.
 */
export function initDeployment(out: string, ...extra: string[]): Promise<CliRun> {
  return cli([
    'init',
    '--domain',
    'hi.example.org',
    '--external-ip',
    PUBLIC_IP,
    '--out',
    out,
    ...extra,
  ]);
}

/** Copies `from` to a new temporary folder. */
export function copyDeployment(from: string): string {
  const dir = tempDir('rtc-broken-');
  cpSync(from, dir, { recursive: true });
  return dir;
}

/** Rewrites one file of a deployment folder with `edit`, failing if nothing changed. */
export function editFile(dir: string, file: string, edit: (text: string) => string): void {
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  writeFileSync(path, after);
}

/** A parsed YAML/TOML document; tests assert on it field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately untyped parse result
export type Parsed = any;

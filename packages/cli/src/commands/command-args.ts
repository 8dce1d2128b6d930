import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

import { UsageError } from '../cli-error.ts';
import { SETTINGS } from '../deployment/settings-table.ts';

/** `parseArgs` options for every setting that has a flag; switches also take `--no-NAME`. */
export const SETTING_OPTIONS: ParseArgsOptionsConfig = Object.fromEntries(
  SETTINGS.filter((s) => s.flag !== false).map((s) => [
    s.name,
    { type: s.kind === 'switch' ? 'boolean' : 'string' } as const,
  ]),
);

/** The `--help` lines of the setting flags, generated from the settings table. */
export function settingUsage(): string {
  return SETTINGS.filter((s) => s.flag !== false)
    .map((s) => {
      const left = `  --${s.name}${s.value === undefined ? '' : ` ${s.value}`}`;
      return left.length < 27
        ? `${left.padEnd(27)}${s.help}`
        : `${left}\n${' '.repeat(27)}${s.help}`;
    })
    .join('\n');
}

/** Setting flags given on the command line, as `.env` text (`on`/`off` for switches). */
export function settingFlags(values: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of SETTINGS) {
    const v = values[spec.name];
    if (typeof v === 'boolean') out[spec.name] = v ? 'on' : 'off';
    else if (typeof v === 'string') out[spec.name] = v;
  }
  return out;
}

/**
 * Parses `args` strictly; every problem becomes a one-line {@link UsageError}. Boolean options
 * accept `--no-NAME` as well.
 */
export function parseCommandArgs(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
): {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
} {
  try {
    const parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

/**
 * The deployment folder of a command: the one positional argument (or `--out`, init's older
 * spelling), else the current folder. Relative paths are resolved against the operator's
 * current folder.
 */
export function deploymentDir(
  command: string,
  positionals: readonly string[],
  cwd: string,
  out?: string,
): string {
  if (positionals.length > 1) {
    throw new UsageError(`${command} takes one deployment folder, got ${positionals.join(' ')}`);
  }
  const given = positionals[0];
  if (given !== undefined && out !== undefined && resolve(cwd, given) !== resolve(cwd, out)) {
    throw new UsageError(`give the folder once: ${given} or --out ${out}`);
  }
  return resolve(cwd, given ?? out ?? '.');
}

/** {@link deploymentDir} for commands that read an existing folder. */
export function existingDeploymentDir(
  command: string,
  positionals: readonly string[],
  cwd: string,
): string {
  const dir = deploymentDir(command, positionals, cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} is not a folder`);
  }
  return dir;
}

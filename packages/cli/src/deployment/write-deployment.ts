import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

import { UsageError } from '../cli-error.ts';

/** One file of the deployment folder. */
export interface DeploymentFile {
  /** Path relative to the deployment folder. */
  readonly name: string;
  readonly content: string;
  /** 0o600 for files holding secrets. */
  readonly mode: number;
}

/**
 * Refuses a target folder that cannot be written, before anything is written: the folder must
 * be a writable directory, or not exist below a writable directory.
 *
 * @throws {@link UsageError} with a one-line reason.
 */
export function assertWritableFolder(dir: string): void {
  let probe = dir;
  while (!existsSync(probe)) {
    const parent = dirname(probe);
    if (parent === probe) break;
    probe = parent;
  }
  const stat = statSync(probe);
  if (!stat.isDirectory()) {
    throw new UsageError(`cannot write to ${dir}: ${probe} is not a directory`);
  }
  try {
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`cannot write to ${dir}: ${probe} is not writable`);
  }
}

/** What {@link writeDeployment} did to each file. */
export interface WriteResult {
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  /** Backups made of files whose content changed: `[file, backup]`. */
  readonly backups: readonly (readonly [string, string])[];
}

/**
 * Writes the files, each atomically (temp file + rename) with its mode. A file whose content
 * changes is first copied to `<name>.bak-<stamp>` so hand edits and old secrets survive.
 */
export function writeDeployment(
  dir: string,
  files: readonly DeploymentFile[],
  stamp: string,
  extraDirs: readonly string[] = [],
): WriteResult {
  mkdirSync(dir, { recursive: true });
  for (const sub of extraDirs) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const unchanged: string[] = [];
  const backups: [string, string][] = [];
  for (const file of files) {
    const path = join(dir, file.name);
    if (existsSync(path)) {
      if (readFileSync(path, 'utf8') === file.content) {
        unchanged.push(file.name);
        continue;
      }
      const backup = `${file.name}.bak-${stamp}`;
      copyFileSync(path, join(dir, backup));
      backups.push([file.name, backup]);
    }
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, file.content, { mode: file.mode });
    renameSync(tmp, path);
    written.push(file.name);
  }
  return { written, unchanged, backups };
}

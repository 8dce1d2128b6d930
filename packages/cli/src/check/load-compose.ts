import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import YAML from 'yaml';

import { type Finding } from './finding.ts';
import { parseErrorFinding } from './parse-error.ts';

/** One compose service as parsed, with the file each of its settings came from. */
export interface MergedService {
  readonly value: Readonly<Record<string, unknown>>;
  /**
   * Compose file that set a setting last, by top-level key (`deploy`) and by environment
   * variable (`environment.LIVEKIT_REDIS_URL`), so findings name the file to edit.
   */
  readonly origins: Readonly<Record<string, string>>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The compose files compose itself reads in `dir`: COMPOSE_FILE from `.env` (split on
 * COMPOSE_PATH_SEPARATOR, `:` by default), else `compose.yaml`.
 */
export function composeFileNames(env: Readonly<Record<string, string>>): string[] {
  const list = env.COMPOSE_FILE ?? '';
  if (list === '') return ['compose.yaml'];
  const separator = env.COMPOSE_PATH_SEPARATOR ?? ':';
  return list.split(separator).filter((name) => name !== '');
}

/** A service's environment as a map, whether written as a map or as a `KEY=value` list. */
function environmentMap(value: unknown): Record<string, unknown> {
  if (!Array.isArray(value)) return isRecord(value) ? value : {};
  const out: Record<string, unknown> = {};
  for (const item of value) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq > 0) out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
}

/**
 * Compose's merge of a later file into an earlier one, reduced to what `check` reads: maps merge
 * key by key, `ports` accumulate, every other list (command, healthcheck test) is replaced.
 */
function merge(base: unknown, over: unknown, key = ''): unknown {
  if (isRecord(base) && isRecord(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v, k) : v;
    return out;
  }
  if (key === 'ports' && Array.isArray(base) && Array.isArray(over)) {
    return [...(base as unknown[]), ...(over as unknown[])];
  }
  return over;
}

/**
 * Reads and merges the deployment's compose files into one services map. A missing or
 * unparseable file becomes a finding; `undefined` when no file could be read.
 */
export function loadComposeServices(
  dir: string,
  env: Readonly<Record<string, string>>,
  findings: Finding[],
  unreadable: Set<string> = new Set(),
): Record<string, MergedService> | undefined {
  let services: Record<string, MergedService> | undefined;
  for (const file of composeFileNames(env)) {
    const path = join(dir, file);
    if (!existsSync(path)) {
      findings.push({ rule: 'missing-file', file, key: '-', message: 'file not found' });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = YAML.parse(readFileSync(path, 'utf8'), { merge: true });
    } catch (error) {
      unreadable.add(file);
      findings.push(parseErrorFinding(file, error));
      continue;
    }
    services ??= {};
    const entries = isRecord(parsed) && isRecord(parsed.services) ? parsed.services : {};
    for (const [name, raw] of Object.entries(entries)) {
      const value = isRecord(raw) ? { ...raw } : {};
      if ('environment' in value) value.environment = environmentMap(value.environment);
      const before = services[name];
      const origins = { ...before?.origins };
      for (const key of Object.keys(value)) origins[key] = file;
      for (const variable of Object.keys(environmentMap(value.environment))) {
        origins[`environment.${variable}`] = file;
      }
      const merged = before === undefined ? value : merge(before.value, value);
      services[name] = { value: isRecord(merged) ? merged : {}, origins };
    }
  }
  return services;
}

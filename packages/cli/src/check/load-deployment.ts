import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse as parseToml } from 'smol-toml';
import YAML from 'yaml';

import { parseEnvFile } from '../deployment/env-file.ts';
import { asText } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { interpolateDeep } from './interpolate.ts';
import { loadComposeServices } from './load-compose.ts';
import { parseErrorFinding } from './parse-error.ts';
import { parseTurnserverConf, type TurnserverConf } from './turnserver-conf-file.ts';

/** A compose service, after `${VAR}` interpolation, reduced to what the rules read. */
export interface ComposeService {
  readonly environment: Readonly<Record<string, string>>;
  /** Compose file that set a setting, e.g. `deploy` or `environment.LIVEKIT_KEY` (see load-compose). */
  readonly origins: Readonly<Record<string, string>>;
  /** `deploy.replicas`; 1 when unset. */
  readonly replicas: number;
  readonly ports: readonly string[];
  readonly command: readonly string[];
  /** Bind mounts as `[host path, container path]` (short and long syntax). */
  readonly volumes: readonly (readonly [string, string])[];
  readonly networkMode?: string;
}

/** The files of a deployment folder, parsed; a missing or unreadable file is `undefined`. */
export interface Deployment {
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly services?: Readonly<Record<string, ComposeService>>;
  readonly livekit?: Readonly<Record<string, unknown>>;
  readonly turnserver?: TurnserverConf;
  /** The `[global]` table of continuwuity.toml. */
  readonly continuwuity?: Readonly<Record<string, unknown>>;
  /**
   * Files present but not parseable (already reported as `unreadable-file`): rules skip what
   * they would read from them instead of reporting it missing.
   */
  readonly unreadable: ReadonlySet<string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function toEnvironment(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    const out: Record<string, string> = {};
    for (const item of value) {
      const text = asText(item);
      const eq = text.indexOf('=');
      if (eq > 0) out[text.slice(0, eq)] = text.slice(eq + 1);
    }
    return out;
  }
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asText(v)]));
  }
  return {};
}

function toService(value: unknown, origins: Readonly<Record<string, string>>): ComposeService {
  const s = isRecord(value) ? value : {};
  const replicas = Number(isRecord(s.deploy) ? (s.deploy.replicas ?? 1) : 1);
  const ports = Array.isArray(s.ports)
    ? s.ports.map((p: unknown) => {
        if (isRecord(p)) {
          const target = asText(p.target);
          const proto = typeof p.protocol === 'string' ? p.protocol : 'tcp';
          return `${asText(p.published ?? target)}:${target}/${proto}`;
        }
        return asText(p);
      })
    : [];
  const command =
    typeof s.command === 'string'
      ? s.command.split(/\s+/)
      : Array.isArray(s.command)
        ? s.command.map(String)
        : [];
  const volumes = Array.isArray(s.volumes)
    ? s.volumes.flatMap((v: unknown): [string, string][] => {
        if (isRecord(v)) return [[asText(v.source), asText(v.target)]];
        const [host = '', target = ''] = asText(v).split(':');
        return target === '' ? [] : [[host, target]];
      })
    : [];
  return {
    environment: toEnvironment(s.environment),
    origins,
    replicas: Number.isInteger(replicas) ? replicas : 1,
    ports,
    command,
    volumes,
    ...(typeof s.network_mode === 'string' ? { networkMode: s.network_mode } : {}),
  };
}

/**
 * Reads and parses a deployment folder. Problems reading a file become findings (rule
 * `unreadable-file`) so that `check` still reports everything else.
 */
export function loadDeployment(dir: string, findings: Finding[]): Deployment {
  const read = (file: string, required: boolean): string | undefined => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      if (required) {
        findings.push({ rule: 'missing-file', file, key: '-', message: 'file not found' });
      }
      return undefined;
    }
    return readFileSync(path, 'utf8');
  };
  const unreadable = new Set<string>();
  const parse = <T>(
    file: string,
    text: string | undefined,
    fn: (t: string) => T,
  ): T | undefined => {
    if (text === undefined) return undefined;
    try {
      return fn(text);
    } catch (error) {
      unreadable.add(file);
      findings.push(parseErrorFinding(file, error));
      return undefined;
    }
  };
  const envText = read('.env', true);
  const env = envText === undefined ? {} : parseEnvFile(envText);
  // compose.yaml, plus compose.scale.yaml when COMPOSE_FILE names it, merged as compose does.
  const compose = loadComposeServices(dir, env, findings, unreadable);
  const services: Record<string, ComposeService> = {};
  for (const [name, merged] of Object.entries(compose ?? {})) {
    services[name] = toService(interpolateDeep(merged.value, env), merged.origins);
  }
  const livekit = parse(
    'livekit.yaml',
    read('livekit.yaml', true),
    (t) => YAML.parse(t) as unknown,
  );
  const turnserver = parse('turnserver.conf', read('turnserver.conf', true), parseTurnserverConf);
  const toml = parse('continuwuity.toml', read('continuwuity.toml', false), (t) => parseToml(t));
  const global = isRecord(toml) ? (isRecord(toml.global) ? toml.global : toml) : undefined;
  return {
    dir,
    env,
    ...(compose === undefined ? {} : { services }),
    ...(isRecord(livekit) ? { livekit } : {}),
    ...(turnserver === undefined ? {} : { turnserver }),
    ...(global === undefined ? {} : { continuwuity: global }),
    unreadable,
  };
}

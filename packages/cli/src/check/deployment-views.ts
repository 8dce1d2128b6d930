import { isAbsolute, join } from 'node:path';

import { type ComposeService, type Deployment } from './load-deployment.ts';

/** A setting together with where it was read, for findings that name file and key. */
export interface Located<T> {
  readonly value: T;
  readonly file: string;
  readonly key: string;
}

// continuwuity reads CONDUIT_*, then CONDUWUIT_*, then CONTINUWUITY_* (the later wins).
const HOMESERVER_PREFIXES = ['CONTINUWUITY_', 'CONDUWUIT_', 'CONDUIT_'] as const;

/** The compose service running the homeserver: named so, or configured by its env prefixes. */
export function homeserverService(d: Deployment): [string, ComposeService] | undefined {
  const entries = Object.entries(d.services ?? {});
  return (
    entries.find(([name]) => /continuwuity|conduwuit|conduit|homeserver/i.test(name)) ??
    entries.find(([, s]) =>
      Object.keys(s.environment).some((k) => HOMESERVER_PREFIXES.some((p) => k.startsWith(p))),
    )
  );
}

/**
 * A continuwuity setting by its TOML key under `[global]` (`turn_uris`, `matrix_rtc.foci`):
 * the environment overlay of the homeserver service if set, else continuwuity.toml.
 */
export function homeserverSetting(d: Deployment, tomlKey: string): Located<unknown> | undefined {
  const hs = homeserverService(d);
  if (hs !== undefined) {
    const envKey = tomlKey.toUpperCase().replaceAll('.', '__');
    for (const prefix of HOMESERVER_PREFIXES) {
      const value = hs[1].environment[prefix + envKey];
      if (value !== undefined) {
        return {
          value,
          file: 'compose.yaml',
          key: `services.${hs[0]}.environment.${prefix}${envKey}`,
        };
      }
    }
  }
  let node: unknown = d.continuwuity;
  for (const part of tomlKey.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (node === undefined) return undefined;
  return { value: node, file: 'continuwuity.toml', key: `global.${tomlKey}` };
}

/** The first service whose environment defines `variable`, e.g. the JWT service for `LIVEKIT_SECRET`. */
export function serviceWithEnv(
  d: Deployment,
  variable: string,
): [string, ComposeService] | undefined {
  return Object.entries(d.services ?? {}).find(([, s]) => variable in s.environment);
}

/** A service's environment variable with its location. */
export function serviceEnv(d: Deployment, variable: string): Located<string> | undefined {
  const found = serviceWithEnv(d, variable);
  if (found === undefined) return undefined;
  return {
    value: found[1].environment[variable] ?? '',
    file: found[1].origins[`environment.${variable}`] ?? 'compose.yaml',
    key: `services.${found[0]}.environment.${variable}`,
  };
}

/** A value of livekit.yaml by dotted path. */
export function livekitSetting(d: Deployment, path: string): unknown {
  let node: unknown = d.livekit;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A scalar from YAML/TOML/env as text; objects as JSON so nothing prints "[object Object]". */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/**
 * The file of the deployment folder that a container path of `service` is mounted from, e.g.
 * continuwuity's `turn_secret_file`: through the service's bind mounts, the longest match first.
 */
export function mountedFile(
  d: Deployment,
  service: ComposeService,
  containerPath: string,
): string | undefined {
  const mounts = [...service.volumes].sort((a, b) => b[1].length - a[1].length);
  for (const [host, target] of mounts) {
    if (containerPath !== target && !containerPath.startsWith(`${target.replace(/\/+$/, '')}/`)) {
      continue;
    }
    if (!host.startsWith('.') && !host.startsWith('/')) return undefined; // a named volume
    return join(isAbsolute(host) ? host : join(d.dir, host), containerPath.slice(target.length));
  }
  return undefined;
}

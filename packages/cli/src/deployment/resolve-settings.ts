import { UsageError } from '../cli-error.ts';
import { type DeploymentSettings, type PortRange } from './deployment-settings.ts';
import {
  envText,
  SETTINGS,
  type SettingContext,
  type SettingSpec,
  type SettingValues,
} from './settings-table.ts';

/** A setting whose value differs from the one `.env` held. */
export interface SettingChange {
  readonly spec: SettingSpec;
  readonly from: string;
  readonly to: string;
  /**
   * `flag`: given on the command line; `follows`: a default that follows a changed setting;
   * `normalised`: the `.env` text written in its canonical form.
   */
  readonly why: 'flag' | 'follows' | 'normalised';
}

/** What {@link resolveSettings} decided. */
export interface Resolution {
  readonly values: SettingValues;
  readonly changes: readonly SettingChange[];
  /** Settings the old `.env` lacked (written by an older version), now at their default. */
  readonly added: readonly SettingSpec[];
}

/** Inputs of {@link resolveSettings}. */
export interface ResolveInput {
  /** Flag values by setting name (`on`/`off` for switches); absent when not given. */
  readonly flags: Readonly<Record<string, string | undefined>>;
  /** Path of the deployment's `.env`, for messages. */
  readonly envPath: string;
  /** Whether an `.env` existed before this run. */
  readonly hadEnv: boolean;
  /** Allow changes that need `--force` (server name, proxy mode). */
  readonly force: boolean;
  readonly ctx: SettingContext;
}

const flagLabel = (spec: SettingSpec): string => `--${spec.name}`;
const envLabel = (spec: SettingSpec, envPath: string): string =>
  `${spec.env.join('/')} in ${envPath}`;

/**
 * Resolves every setting: a flag wins, then the value `.env` holds, then the default. A default
 * that reads another setting (TURN host, Traefik network) follows that setting when `.env` held
 * the old default. A change of a guarded setting needs `force`. Throws {@link UsageError}
 * naming the flag or the `.env` key of a bad value.
 */
export function resolveSettings(input: ResolveInput): Resolution {
  const { flags, envPath, ctx } = input;
  const values: Record<string, string> = {};
  const before: Record<string, string> = {};
  const changes: SettingChange[] = [];
  const added: SettingSpec[] = [];
  for (const spec of SETTINGS) {
    const flag = flags[spec.name];
    const stored = envText(spec, ctx.previous);
    const oldDefault = spec.fallback?.(before, ctx);
    const newDefault = spec.fallback?.(values, ctx);
    if (stored !== undefined) before[spec.name] = stored;
    else if (oldDefault !== undefined) before[spec.name] = oldDefault;
    let text: string;
    let label: string;
    let why: SettingChange['why'] = 'flag';
    if (flag !== undefined) {
      text = flag;
      label = flagLabel(spec);
    } else if (stored !== undefined) {
      const follows = stored === oldDefault && newDefault !== undefined && newDefault !== stored;
      text = follows ? newDefault : stored;
      label = follows ? flagLabel(spec) : envLabel(spec, envPath);
      why = follows ? 'follows' : 'normalised';
    } else if (newDefault !== undefined) {
      text = newDefault;
      label = flagLabel(spec);
      if (input.hadEnv) added.push(spec);
    } else {
      const first = input.hadEnv ? `${envPath} has no ${spec.env.join('/')}` : 'first run';
      throw new UsageError(`${flagLabel(spec)} is required (${first}): ${spec.help}`);
    }
    const value = spec.parse(text, label, values, ctx);
    values[spec.name] = value;
    if (stored === undefined || value === stored) continue;
    if (spec.guard !== undefined && !input.force) {
      throw new UsageError(spec.guard(stored, value, envPath));
    }
    changes.push({ spec, from: stored, to: value, why });
  }
  checkCombination(values, (name) => {
    const spec = SETTINGS.find((s) => s.name === name);
    if (spec === undefined) return name;
    return flags[name] !== undefined || envText(spec, ctx.previous) === undefined
      ? flagLabel(spec)
      : envLabel(spec, envPath);
  });
  return { values, changes, added };
}

function span(text: string): PortRange {
  const [from = 0, to = from] = text.split('-').map(Number);
  return { from, to };
}

/**
 * Settings that are fine alone but not together: a standalone proxy without an ACME address,
 * and two published ports on the same number (one of the services would not start).
 */
function checkCombination(v: SettingValues, label: (name: string) => string): void {
  if (v.proxy === 'standalone' && v['acme-email'] === '') {
    throw new UsageError(
      `--proxy standalone needs --acme-email ADDRESS: Let's Encrypt issues the certificate for ${v.domain} to that account`,
    );
  }
  const claims: { name: string; proto: 'tcp' | 'udp'; range: PortRange }[] = [
    { name: 'livekit-tcp-port', proto: 'tcp', range: span(v['livekit-tcp-port'] ?? '') },
    { name: 'livekit-udp-ports', proto: 'udp', range: span(v['livekit-udp-ports'] ?? '') },
    { name: 'turn-port', proto: 'udp', range: span(v['turn-port'] ?? '') },
    { name: 'turn-port', proto: 'tcp', range: span(v['turn-port'] ?? '') },
    { name: 'turn-relay-ports', proto: 'udp', range: span(v['turn-relay-ports'] ?? '') },
  ];
  if (v.proxy === 'standalone') {
    claims.push(
      { name: 'https-port', proto: 'tcp', range: span(v['https-port'] ?? '') },
      { name: 'http-port', proto: 'tcp', range: span(v['http-port'] ?? '') },
    );
  }
  for (const [i, a] of claims.entries()) {
    for (const b of claims.slice(i + 1)) {
      if (a.name === b.name || a.proto !== b.proto) continue;
      if (a.range.from <= b.range.to && b.range.from <= a.range.to) {
        throw new UsageError(
          `${label(b.name)} ${v[b.name] ?? ''} overlaps ${label(a.name)} ${v[a.name] ?? ''} (${a.proto}): every published port must be distinct`,
        );
      }
    }
  }
}

/** The typed settings the renderers read, from resolved values and the secrets. */
export function toDeploymentSettings(
  v: SettingValues,
  secrets: DeploymentSettings['secrets'],
): DeploymentSettings {
  const get = (name: string): string => v[name] ?? '';
  return {
    serverName: get('domain'),
    externalIp: get('external-ip'),
    allowPrivateIp: get('allow-private-ip') === 'on',
    turnHost: get('turn-host'),
    federation: get('federation') === 'off' ? 'off' : 'on',
    registration: (['open', 'off'] as const).find((r) => r === get('registration')) ?? 'token',
    proxy: get('proxy') === 'standalone' ? 'standalone' : 'external',
    acmeEmail: get('acme-email'),
    traefikNetwork: get('traefik-network'),
    scale: get('scale') === 'on',
    ports: {
      https: Number(get('https-port')),
      http: Number(get('http-port')),
      livekitTcp: Number(get('livekit-tcp-port')),
      livekitUdp: span(get('livekit-udp-ports')),
      turn: Number(get('turn-port')),
      turnRelay: span(get('turn-relay-ports')),
    },
    sourceDir: get('source'),
    uid: Number(get('uid')),
    gid: Number(get('gid')),
    secrets,
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { checkDeployment, formatFinding } from '../check/check-deployment.ts';
import { CliError, EXIT, UsageError } from '../cli-error.ts';
import { operatorNotes } from '../deployment/operator-notes.ts';
import { renderDeployment } from '../deployment/render-deployment.ts';
import {
  type Resolution,
  resolveSettings,
  type SettingChange,
  toDeploymentSettings,
} from '../deployment/resolve-settings.ts';
import { fillSecrets, wantedSecrets } from '../deployment/secrets.ts';
import { envEntries, type SettingSpec } from '../deployment/settings-table.ts';
import { checkoutRoot } from '../deployment/templates.ts';
import { writeDeployment } from '../deployment/write-deployment.ts';
import { type CliIo } from '../io.ts';

/** What {@link applyDeployment} starts from. */
export interface ApplyOptions {
  readonly outDir: string;
  /** The `.env` values to start from: the folder's own, or what `migrate` carried over. */
  readonly previous: Readonly<Record<string, string>>;
  readonly hadEnv: boolean;
  readonly flags: Readonly<Record<string, string>>;
  readonly force: boolean;
  readonly regenerateSecrets: boolean;
  readonly io: CliIo;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

const show = (spec: SettingSpec, text: string): string =>
  envEntries(spec, text)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function describeChange(c: SettingChange): string {
  const why =
    c.why === 'flag'
      ? `--${c.spec.name}`
      : c.why === 'follows'
        ? 'its default follows'
        : 'normalised';
  return `Changed ${c.spec.env.join('/')}: ${c.from || '""'} -> ${c.to || '""'} (${why})`;
}

function reportResolution(r: Resolution, io: CliIo): void {
  for (const change of r.changes) io.out(describeChange(change));
  if (r.added.length > 0) {
    const list = r.added.map((spec) => show(spec, r.values[spec.name] ?? '')).join(', ');
    io.out(`New settings, at their defaults: ${list}`);
  }
}

/** The server name of the homeserver this folder already configures, if any. */
function homeserverName(outDir: string): string | undefined {
  const path = join(outDir, 'continuwuity.toml');
  if (!existsSync(path)) return undefined;
  return /^server_name\s*=\s*"([^"]*)"/m.exec(readFileSync(path, 'utf8'))?.[1];
}

/**
 * Resolves the settings (flags over `.env` over defaults), keeps or generates the secrets,
 * renders and writes every file, checks the result and prints what changed and what to do next.
 * Returns the exit code. Shared by `init` (its own folder) and `migrate` (carried-over values).
 */
export function applyDeployment(o: ApplyOptions): number {
  const { io, outDir } = o;
  const envPath = join(outDir, '.env');
  const checkout = checkoutRoot();
  const resolution = resolveSettings({
    flags: o.flags,
    envPath,
    hadEnv: o.hadEnv,
    force: o.force,
    ctx: {
      cwd: io.cwd,
      ...(checkout === undefined ? {} : { checkout }),
      uid: process.getuid?.() ?? 1000,
      gid: process.getgid?.() ?? 1000,
      previous: o.previous,
    },
  });
  const { values } = resolution;
  const homeserver = homeserverName(outDir);
  if (homeserver !== undefined && homeserver !== values.domain && !o.force) {
    throw new UsageError(
      `${envPath} names "${values.domain ?? ''}", but this folder's homeserver is "${homeserver}" (continuwuity.toml); a server name is permanent (use --force to start over)`,
    );
  }
  const needs = { registration: values.registration ?? '', scale: values.scale === 'on' };
  const secrets = fillSecrets(wantedSecrets(needs), o.regenerateSecrets ? {} : o.previous);
  const settings = toDeploymentSettings(values, secrets.values);
  const rendered = renderDeployment(values, settings, o.previous);
  let result;
  try {
    result = writeDeployment(outDir, rendered.files, stamp(), rendered.dataDirs);
  } catch (error) {
    throw new CliError(`writing ${outDir} failed: ${(error as Error).message}`);
  }

  io.out(`Deployment folder: ${outDir}`);
  reportResolution(resolution, io);
  if (homeserver !== undefined && homeserver !== settings.serverName) {
    io.err(
      `Warning: ${join(outDir, 'data/continuwuity')} holds the database of the old server name; continuwuity refuses it under a new one (move it away to start afresh)`,
    );
  }
  if (settings.allowPrivateIp) {
    io.out(
      `Note: ALLOW_PRIVATE_IP=on: ${settings.externalIp} is advertised as it is; only clients that can reach that address get media.`,
    );
  }
  if (secrets.kept.length > 0) {
    io.out(
      `Kept existing secrets: ${secrets.kept.join(', ')} (use --regenerate-secrets to replace them)`,
    );
  }
  if (secrets.generated.length > 0) {
    io.out(`Generated secrets: ${secrets.generated.join(', ')}`);
  }
  for (const [file, backup] of result.backups) io.out(`Backed up ${file} to ${backup}`);
  if (result.written.length > 0) io.out(`Wrote: ${result.written.join(', ')}`);
  if (result.unchanged.length > 0) io.out(`Unchanged: ${result.unchanged.join(', ')}`);
  // The files are consistent by construction; checking them anyway catches a hand-edited
  // template in a checkout before the operator starts anything.
  const findings = checkDeployment(outDir);
  for (const finding of findings) io.err(formatFinding(finding));
  if (findings.length > 0) {
    throw new CliError(`the written files are inconsistent (${findings.length} problems above)`);
  }
  io.out('Consistency check: passed');
  io.out('');
  for (const line of operatorNotes(settings, outDir, io.self ?? 'rtc-sidecars')) io.out(line);
  return EXIT.ok;
}

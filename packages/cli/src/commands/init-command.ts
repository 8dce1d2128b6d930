import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { checkDeployment, formatFinding } from '../check/check-deployment.ts';
import { CliError, EXIT, UsageError } from '../cli-error.ts';
import {
  composeFiles,
  type DeploymentSettings,
  oneOfFlag,
  wantedSecrets,
} from '../deployment/deployment-settings.ts';
import { parseEnvFile } from '../deployment/env-file.ts';
import { operatorNotes } from '../deployment/operator-notes.ts';
import { parsePublicAddress } from '../deployment/public-address.ts';
import { repoRoot } from '../deployment/repo-paths.ts';
import { fillSecrets } from '../deployment/secrets.ts';
import { parseServerName } from '../deployment/server-name.ts';
import {
  assertWritableFolder,
  type DeploymentFile,
  writeDeployment,
} from '../deployment/write-deployment.ts';
import { type CliIo } from '../io.ts';
import {
  continuwuitySecretFiles,
  renderContinuwuityToml,
} from '../render/render-continuwuity-toml.ts';
import { renderEnvFile } from '../render/render-env-file.ts';
import { renderLivekitYaml } from '../render/render-livekit-yaml.ts';
import { renderCoturnConf } from '../render/render-turnserver-conf.ts';
import { type Command } from './command.ts';

const USAGE = `usage: rtc-sidecars init --domain NAME --external-ip IP [options]

Writes a deployment folder: .env (all secrets, mode 0600), compose.yaml (and with --scale
compose.scale.yaml), livekit.yaml, turnserver.conf and continuwuity.toml, all derived from the
same values. Re-running keeps every existing secret and fills in only the missing ones.

options:
  --domain NAME            Matrix server name, e.g. hi.example.org (permanent)
  --external-ip IP         public IPv4/IPv6 address of this host (LiveKit and coturn advertise it)
  --federation on|off      default on; "off" refuses every remote server but keeps calls working
  --registration open|token|off
                           default token (a generated registration token)
  --turn-host NAME         host name in the TURN URIs, default the --domain
  --proxy external|standalone
                           default external: an existing Traefik (Runtipi) on --traefik-network;
                           standalone: the bundled Traefik with Let's Encrypt
  --traefik-network NAME   default runtipi_tipi_main_network (external) or rtc-sidecars-proxy
  --acme-email ADDRESS     Let's Encrypt account e-mail (standalone proxy)
  --scale                  add compose.scale.yaml: Redis (REDIS_PASSWORD), LiveKit multi-node,
                           two livekit-jwt replicas; repeat it on every re-run to keep it
  --out DIR                deployment folder, default the current folder
  --force                  regenerate every secret (the old .env is kept as a backup)`;

const OPTIONS = {
  domain: { type: 'string' },
  'external-ip': { type: 'string' },
  federation: { type: 'string', default: 'on' },
  registration: { type: 'string', default: 'token' },
  'turn-host': { type: 'string' },
  proxy: { type: 'string', default: 'external' },
  'traefik-network': { type: 'string' },
  'acme-email': { type: 'string', default: '' },
  scale: { type: 'boolean', default: false },
  out: { type: 'string', default: '.' },
  force: { type: 'boolean', default: false },
} as const;

function parse(args: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>> {
  try {
    return parseArgs({ args: [...args], options: OPTIONS, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args);
  const serverName = parseServerName(values.domain ?? '');
  const externalIp = parsePublicAddress(values['external-ip'] ?? '');
  const federation = oneOfFlag('federation', values.federation, ['on', 'off'] as const);
  const registration = oneOfFlag('registration', values.registration, [
    'open',
    'token',
    'off',
  ] as const);
  const proxy = oneOfFlag('proxy', values.proxy, ['external', 'standalone'] as const);
  const turnHost =
    values['turn-host'] === undefined
      ? serverName
      : parseServerName(values['turn-host'], '--turn-host');
  const traefikNetwork =
    values['traefik-network'] ??
    (proxy === 'standalone' ? 'rtc-sidecars-proxy' : 'runtipi_tipi_main_network');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(traefikNetwork)) {
    throw new UsageError(`--traefik-network "${traefikNetwork}" is not a Docker network name`);
  }
  const acmeEmail = values['acme-email'];
  if (acmeEmail !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(acmeEmail)) {
    throw new UsageError(`--acme-email "${acmeEmail}" is not an e-mail address`);
  }
  const outDir = resolve(io.cwd, values.out);
  assertWritableFolder(outDir);
  const source = repoRoot();

  const envPath = join(outDir, '.env');
  const existing = existsSync(envPath) ? parseEnvFile(readFileSync(envPath, 'utf8')) : {};
  const previousName = existing.SERVER_NAME;
  if (!values.force && previousName !== undefined && previousName !== serverName) {
    throw new UsageError(
      `${envPath} belongs to "${previousName}", not "${serverName}"; a server name is permanent (use --force to start over)`,
    );
  }
  const scale = values.scale;
  const secrets = fillSecrets(wantedSecrets(registration, scale), values.force ? {} : existing);

  const settings: DeploymentSettings = {
    serverName,
    externalIp,
    turnHost,
    federation,
    registration,
    proxy,
    acmeEmail,
    traefikNetwork,
    scale,
    sourceDir: source,
    uid: process.getuid?.() ?? 1000,
    gid: process.getgid?.() ?? 1000,
    secrets: secrets.values,
  };
  const envText = renderEnvFile(settings);
  const files: DeploymentFile[] = [
    { name: '.env', content: envText, mode: 0o600 },
    ...composeFiles(scale).map((name) => ({
      name,
      content: readFileSync(join(source, 'docker', name), 'utf8'),
      mode: 0o644,
    })),
    {
      name: 'livekit.yaml',
      content: renderLivekitYaml(source, parseEnvFile(envText), scale),
      mode: 0o600,
    },
    { name: 'turnserver.conf', content: renderCoturnConf(settings), mode: 0o600 },
    { name: 'continuwuity.toml', content: renderContinuwuityToml(settings), mode: 0o600 },
    ...continuwuitySecretFiles(settings),
  ];
  let result;
  try {
    const dataDirs = [
      'data/continuwuity',
      'data/traefik',
      'secrets',
      ...(scale ? ['data/redis'] : []),
    ];
    result = writeDeployment(outDir, files, stamp(), dataDirs);
  } catch (error) {
    throw new CliError(`writing ${outDir} failed: ${(error as Error).message}`);
  }

  io.out(`Deployment folder: ${outDir}`);
  if (secrets.kept.length > 0) {
    io.out(`Kept existing secrets: ${secrets.kept.join(', ')} (use --force to regenerate)`);
  }
  if (secrets.generated.length > 0) {
    io.out(`Generated secrets: ${secrets.generated.join(', ')}`);
  }
  for (const [file, backup] of result.backups) io.out(`Backed up ${file} to ${backup}`);
  if (result.written.length > 0) io.out(`Wrote: ${result.written.join(', ')}`);
  if (result.unchanged.length > 0) io.out(`Unchanged: ${result.unchanged.join(', ')}`);
  // The files are consistent by construction; checking them anyway catches a hand-edited
  // compose.yaml or template in the checkout before the operator starts anything.
  const findings = checkDeployment(outDir);
  for (const finding of findings) io.err(formatFinding(finding));
  if (findings.length > 0) {
    throw new CliError(`the written files are inconsistent (${findings.length} problems above)`);
  }
  io.out('Consistency check: passed');
  io.out('');
  for (const line of operatorNotes(settings, outDir)) io.out(line);
  return EXIT.ok;
}

/** `rtc-sidecars init`: secrets and every config file of a deployment, consistent by construction. */
export const initCommand: Command = {
  name: 'init',
  summary: 'write a deployment folder: secrets (.env) and every config file, all consistent',
  usage: USAGE,
  run,
};

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { UsageError } from '../cli-error.ts';
import { parseEnvFile } from '../deployment/env-file.ts';
import { shellQuote } from '../deployment/operator-notes.ts';
import { assertWritableFolder } from '../deployment/write-deployment.ts';
import { type CliIo } from '../io.ts';
import { type OldDeployment, readOldDeployment } from '../migrate/read-old-deployment.ts';
import { applyDeployment } from './apply-deployment.ts';
import {
  deploymentDir,
  parseCommandArgs,
  SETTING_OPTIONS,
  settingFlags,
  settingUsage,
} from './command-args.ts';
import { type Command } from './command.ts';

const USAGE = `usage: rtc-sidecars migrate --from OLD_DIR [DIR] [settings]

Makes a new deployment folder (DIR, default the current folder) from an existing hand-built one:
the Runtipi app folder with app.env (APP_DOMAIN, EXTERNAL_IP, TURN_SECRET, LIVEKIT_API_KEY,
LIVEKIT_API_SECRET, ALLOW_REGISTRATION, ALLOW_FEDERATION), coturn.conf and livekit.yaml. The
new deployment keeps the domain and the secrets, so TURN credentials and LiveKit keys in use
stay valid. It prints what it carried over, what it changed and why, and how to stop the old app.
Nothing in OLD_DIR is changed.

options:
  --from OLD_DIR           the old app's configuration folder (where its app.env is)
settings (override what was carried over; the same as init's):
${settingUsage()}`;

const OPTIONS = { ...SETTING_OPTIONS, from: { type: 'string' } } as const;

function printOld(old: OldDeployment, from: string, io: CliIo): void {
  io.out(`Migrating from ${from} (${old.files.join(', ')})`);
  io.out('Carried over:');
  for (const line of old.carried) io.out(`  - ${line}`);
  io.out('Changed, and why:');
  for (const line of old.changed) io.out(`  - ${line}`);
  if (old.dropped.length > 0) {
    io.out('Not carried over:');
    for (const line of old.dropped) io.out(`  - ${line}`);
  }
  io.out('');
}

/** The steps that take the old app down and its database over, with its real paths. */
function stopOldApp(old: OldDeployment, outDir: string, self: string): string[] {
  const data = old.dataDir ?? 'APP_DATA_DIR';
  const config = shellQuote(old.configDir);
  const dir = shellQuote(outDir);
  const env = parseEnvFile(readFileSync(join(outDir, '.env'), 'utf8'));
  const owner = `${env.RTC_UID ?? '1000'}:${env.RTC_GID ?? '1000'}`;
  return [
    'Before starting the new stack, stop the old app. It holds 3478 and 5349 (coturn on the host',
    'network), 7880-7882 and the LiveKit UDP range, and its priority-100 /.well-known/matrix router',
    'would answer in place of the new one:',
    `  1. back up:  tar -czf matrix-backup-$(date +%Y%m%d).tar.gz ${shellQuote(data)} ${config}`,
    `  2. stop it in the Runtipi dashboard (so Runtipi does not start it again), or: cd ${config} && docker-compose down`,
    "  3. check:    ss -lntup | grep -E ':(3478|5349|788[0-2])\\b'   # no output: the ports are free",
    '  4. database: continuwuity is the continuation of conduwuit and opens its database (the first',
    '     start upgrades it in place: keep the backup, there is no way back); a database of the',
    '     original Conduit cannot be opened. Copy it and give it to the user the stack runs as:',
    `       sudo cp -a ${shellQuote(`${data}/data/.`)} ${shellQuote(`${outDir}/data/continuwuity/`)}`,
    `       sudo rm -rf ${shellQuote(`${outDir}/data/continuwuity/livekit`)}   # LiveKit's old folder, not needed`,
    `       sudo chown -R ${owner} ${shellQuote(`${outDir}/data/continuwuity`)}`,
    "  5. 80/443: Runtipi's Traefik keeps them; the new stack uses it (--proxy external, the default).",
    `     Only if Runtipi goes away: ${self} init ${dir} --proxy standalone --acme-email ADDRESS --force`,
    '  6. then the "Next" steps above: start the new stack and run doctor.',
  ];
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (typeof values.from !== 'string') {
    throw new UsageError("--from OLD_DIR is required: the old app's configuration folder");
  }
  const from = resolve(io.cwd, values.from);
  if (!existsSync(from) || !statSync(from).isDirectory())
    throw new UsageError(`${from} is not a folder`);
  const outDir = deploymentDir('migrate', positionals, io.cwd);
  if (outDir === from)
    throw new UsageError('write the new deployment into another folder than --from');
  if (existsSync(join(outDir, '.env'))) {
    throw new UsageError(
      `${outDir} already holds a deployment (.env); migrate writes a new one: give an empty folder (or update this one with rtc-sidecars init)`,
    );
  }
  assertWritableFolder(outDir);
  const old = readOldDeployment(from);
  printOld(old, from, io);
  const code = applyDeployment({
    outDir,
    previous: old.env,
    hadEnv: false,
    flags: settingFlags(values),
    force: true,
    regenerateSecrets: false,
    io,
  });
  io.out('');
  for (const line of stopOldApp(old, outDir, io.self ?? 'rtc-sidecars')) io.out(line);
  return code;
}

/** `rtc-sidecars migrate`: a new deployment from an older hand-built one, secrets kept. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary:
    'make a deployment from an older hand-built one (Runtipi app.env, coturn.conf, livekit.yaml), keeping its secrets',
  usage: USAGE,
  run,
};

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseEnvFile } from '../deployment/env-file.ts';
import { assertWritableFolder } from '../deployment/write-deployment.ts';
import { type CliIo } from '../io.ts';
import { applyDeployment } from './apply-deployment.ts';
import {
  deploymentDir,
  parseCommandArgs,
  SETTING_OPTIONS,
  settingFlags,
  settingUsage,
} from './command-args.ts';
import { type Command } from './command.ts';

const USAGE = `usage: rtc-sidecars init [DIR] [options]

Writes a deployment folder (DIR, default the current folder): .env, compose.yaml (and with
--scale compose.scale.yaml), livekit.yaml, turnserver.conf and continuwuity.toml.

.env is the source of truth. The first run needs --domain and --external-ip. A re-run keeps
every value already in .env (secrets and settings), changes only what a flag names (and says
so), and renders every other file again: after editing .env by hand, run "rtc-sidecars init DIR".

settings (each is kept in .env):
${settingUsage()}

other options:
  --out DIR                the deployment folder (same as the DIR argument)
  --force                  allow changing the server name or the proxy mode of a deployment
  --regenerate-secrets     replace every secret (the old .env is kept as .env.bak-<time>)`;

const OPTIONS = {
  ...SETTING_OPTIONS,
  out: { type: 'string' },
  force: { type: 'boolean' },
  'regenerate-secrets': { type: 'boolean' },
} as const;

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const out = typeof values.out === 'string' ? values.out : undefined;
  const outDir = deploymentDir('init', positionals, io.cwd, out);
  assertWritableFolder(outDir);
  const envPath = join(outDir, '.env');
  const hadEnv = existsSync(envPath);
  const previous = hadEnv ? parseEnvFile(readFileSync(envPath, 'utf8')) : {};
  return applyDeployment({
    outDir,
    previous,
    hadEnv,
    flags: settingFlags(values),
    force: values.force === true,
    regenerateSecrets: values['regenerate-secrets'] === true,
    io,
  });
}

/** `rtc-sidecars init`: a deployment folder rendered from its `.env` and the flags given. */
export const initCommand: Command = {
  name: 'init',
  summary: 'write or update a deployment folder from its .env and the flags given',
  usage: USAGE,
  run,
};

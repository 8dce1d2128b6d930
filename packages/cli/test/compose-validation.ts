import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';

import { type Parsed } from './cli-harness.ts';

// ajv-formats is CommonJS with a default export that ESM sees as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Compiles docker/schema/compose-spec.json with the adjustments ajv 8 needs (see its README). */
export function composeSchemaValidator(): (doc: unknown) => string[] {
  const schema = JSON.parse(
    readFileSync(join(repoRoot, 'docker/schema/compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const format of ['ports', 'expose', 'duration', 'subnet_ip_address'])
    ajv.addFormat(format, true);
  const validate = ajv.compile(schema);
  return (doc) =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map(
          (e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`,
        );
}

/** Parses a compose file the way compose does (YAML 1.2 with `<<` merge keys). */
export function readCompose(path: string): Parsed {
  return YAML.parse(readFileSync(path, 'utf8'), { merge: true });
}

const DOCKER_COMPOSE = '/usr/bin/docker-compose';

type ConfigResult = { status: number | null; stdout: string; stderr: string };

function runDockerCompose(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd?: string,
): ConfigResult {
  if (!existsSync(DOCKER_COMPOSE)) {
    throw new Error(`docker-compose is not installed at ${DOCKER_COMPOSE}; run scripts/setup.sh`);
  }
  const result = spawnSync(DOCKER_COMPOSE, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    ...(cwd === undefined ? {} : { cwd }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `docker-compose -f file config -q` (Debian's v1; no engine needed). Returns the exit status and
 * stderr. Fails with a clear message when the tool is missing: it is installed by scripts/setup.sh.
 */
export function dockerComposeConfig(
  file: string,
  env: Readonly<Record<string, string>>,
  args: readonly string[] = ['-q'],
): ConfigResult {
  return runDockerCompose(['-f', file, 'config', ...args], env);
}

/**
 * `docker-compose config` run inside a deployment folder with no `-f`, as `docker compose up`
 * runs there: compose reads the folder's `.env` itself, COMPOSE_FILE and COMPOSE_PROFILES
 * included. `env` adds (and overrides) variables of the calling shell.
 */
export function dockerComposeConfigIn(
  dir: string,
  args: readonly string[] = ['-q'],
  env: Readonly<Record<string, string>> = {},
): ConfigResult {
  return runDockerCompose(['config', ...args], env, dir);
}

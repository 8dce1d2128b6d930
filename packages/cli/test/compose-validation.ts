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

/**
 * `docker-compose -f file config -q` (Debian's v1; no engine needed). Returns the exit status and
 * stderr. Fails with a clear message when the tool is missing: it is installed by scripts/setup.sh.
 */
export function dockerComposeConfig(
  file: string,
  env: Readonly<Record<string, string>>,
  args: readonly string[] = ['-q'],
): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(DOCKER_COMPOSE)) {
    throw new Error(`docker-compose is not installed at ${DOCKER_COMPOSE}; run scripts/setup.sh`);
  }
  const result = spawnSync(DOCKER_COMPOSE, ['-f', file, 'config', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

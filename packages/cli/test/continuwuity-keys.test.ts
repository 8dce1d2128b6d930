import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cli, initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';
import { readCompose } from './compose-validation.ts';

// continuwuity logs and ignores unknown keys, so a typo silently turns a setting off: every key
// init writes, and every CONTINUWUITY_* variable of the Runtipi app, must be an option of the
// pinned version's example configuration (docker/schema, see its README).

/** Dotted option names (`global.turn_secret_file`) of continuwuity's example configuration. */
function knownOptions(): Set<string> {
  const text = readFileSync(
    join(repoRoot, 'docker/schema/continuwuity-v26.7.3-example.toml'),
    'utf8',
  );
  const known = new Set<string>();
  let table = '';
  for (const line of text.split('\n')) {
    const header = /^#?\[([a-z0-9_.]+)\]$/.exec(line);
    if (header !== null) table = header[1] ?? '';
    const option = /^#([a-z0-9_]+) =/.exec(line);
    if (option !== null) known.add(`${table}.${option[1] ?? ''}`);
  }
  return known;
}

/** The dotted keys of a parsed TOML document; tables recurse, arrays (of tables) are values. */
function keysOf(node: Record<string, unknown>, prefix: string): string[] {
  return Object.entries(node).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? keysOf(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

const known = knownOptions();
const dirs: string[] = [];
beforeAll(() => {
  expect(known.size).toBeGreaterThan(200);
});
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe('continuwuity keys', () => {
  it.each([
    ['token registration, federation on', []],
    ['open registration, federation off', ['--registration', 'open', '--federation', 'off']],
    ['registration off', ['--registration', 'off']],
  ])('should write only keys continuwuity v26.7.3 knows (%s)', async (_name, flags) => {
    const dir = tempDir();
    dirs.push(dir);
    expect((await initDeployment(dir, ...flags)).code).toBe(0);
    const toml = parseToml(readFileSync(join(dir, 'continuwuity.toml'), 'utf8')) as Parsed;
    const keys = keysOf(toml as Record<string, unknown>, '');
    expect(keys.length).toBeGreaterThan(15);
    expect(keys.filter((k) => !known.has(k))).toEqual([]);
    // The defaults a calling deployment overrides.
    expect(toml.global).toMatchObject({
      allow_announcements_check: false,
      new_user_displayname_suffix: '',
    });
  });

  it("should set only known options through the Runtipi app's CONTINUWUITY_* variables", () => {
    const compose = readCompose(
      join(repoRoot, 'docker/runtipi/continuwuity-rtc/docker-compose.yml'),
    );
    const env = compose.services['continuwuity-rtc'].environment as Record<string, string>;
    const options = Object.keys(env)
      .filter((v) => v.startsWith('CONTINUWUITY_') && v !== 'CONTINUWUITY_CONFIG')
      .map((v) => `global.${v.slice('CONTINUWUITY_'.length).toLowerCase().replaceAll('__', '.')}`);
    expect(options.length).toBeGreaterThan(10);
    expect(options.filter((k) => !known.has(k))).toEqual([]);
    expect(env).toMatchObject({
      CONTINUWUITY_ALLOW_ANNOUNCEMENTS_CHECK: 'false',
      CONTINUWUITY_NEW_USER_DISPLAYNAME_SUFFIX: '',
    });
  });

  it("should tell the operator how to make the first account (continuwuity's first-run token)", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const run = await cli([
      'init',
      '--domain',
      'hi.example.org',
      '--external-ip',
      '45.67.89.10',
      '--out',
      dir,
    ]);
    expect(run.code).toBe(0);
    const notes = run.out.join('\n');
    expect(notes).toContain(
      'docker compose logs continuwuity | grep "using the registration token"',
    );
    expect(notes).toContain('Everyone after that registers with REGISTRATION_TOKEN from .env.');
    expect(notes).not.toMatch(/Registration needs the token/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkDeployment, type Finding } from '../src/check/check-deployment.ts';
import {
  cli,
  copyDeployment,
  editFile,
  initDeployment,
  removeDir,
  tempDir,
} from './cli-harness.ts';

// `check` on scale mode: it reads the compose files COMPOSE_FILE names, merged as compose does,
// and finds the ways a shared Redis goes wrong.

let scaled: string;
let single: string;
const copies: string[] = [];

beforeAll(async () => {
  scaled = tempDir();
  single = tempDir();
  expect((await initDeployment(scaled, '--scale')).code).toBe(0);
  expect((await initDeployment(single)).code).toBe(0);
});
afterAll(() => {
  for (const dir of [scaled, single, ...copies]) removeDir(dir);
});

/** A copy of `from` with `edits` applied, and what check finds in it. */
function broken(from: string, edits: Record<string, (text: string) => string>): Finding[] {
  const dir = copyDeployment(from);
  copies.push(dir);
  for (const [file, edit] of Object.entries(edits)) editFile(dir, file, edit);
  return checkDeployment(dir);
}

const where = (f: Finding): string => `${f.file} ${f.key} [${f.rule}]`;

describe('rtc-sidecars check, scale mode', () => {
  it('should pass a freshly generated scale deployment', async () => {
    const run = await cli(['check', scaled]);
    expect(run.out).toEqual([`${scaled}: consistent`]);
    expect(run.code).toBe(0);
  });

  it('should find livekit.yaml left with an old Redis password after .env changed', () => {
    const findings = broken(scaled, {
      '.env': (t) => t.replace(/^REDIS_PASSWORD=.*$/m, `REDIS_PASSWORD=${'ab'.repeat(32)}`),
    });
    expect(findings.map(where)).toEqual(['livekit.yaml redis.password [secret-mismatch]']);
    expect(findings[0]!.message).toMatch(/re-run `rtc-sidecars init --scale`/);
  });

  it('should name the override file holding a wrong LIVEKIT_REDIS_URL password', () => {
    const findings = broken(scaled, {
      'compose.scale.yaml': (t) =>
        t.replace('redis://:${REDIS_PASSWORD}@redis', 'redis://:wrong@redis'),
    });
    expect(findings.map(where)).toEqual([
      'compose.scale.yaml services.livekit-jwt.environment.LIVEKIT_REDIS_URL [secret-mismatch]',
    ]);
  });

  it('should find LiveKit pointed at a Redis service that COMPOSE_FILE no longer starts', () => {
    const findings = broken(scaled, {
      '.env': (t) => t.replace(/^COMPOSE_FILE=.*$/m, ''),
    });
    expect(findings.map(where)).toEqual(['livekit.yaml redis.address [redis-unreachable]']);
    expect(findings[0]!.message).toMatch(/"redis", which is no compose service/);
  });

  it('should find a missing compose file that COMPOSE_FILE names', () => {
    const findings = broken(scaled, {
      '.env': (t) =>
        t.replace(/^COMPOSE_FILE=.*$/m, 'COMPOSE_FILE=compose.yaml:compose.other.yaml'),
    });
    expect(findings.map(where)).toEqual([
      'compose.other.yaml - [missing-file]',
      'livekit.yaml redis.address [redis-unreachable]',
    ]);
  });

  it('should find replicas of livekit-jwt without LIVEKIT_REDIS_URL (replicas-without-redis)', () => {
    const scaleFile = broken(scaled, {
      'compose.scale.yaml': (t) => t.replace(/^ {6}LIVEKIT_REDIS_URL: .*$/m, '      X: y'),
    });
    expect(scaleFile.map(where)).toEqual([
      'compose.scale.yaml services.livekit-jwt.deploy.replicas [replicas-without-redis]',
    ]);
    const composeFile = broken(single, {
      'compose.yaml': (t) =>
        t.replace('  livekit-jwt:\n', '  livekit-jwt:\n    deploy:\n      replicas: 3\n'),
    });
    expect(composeFile.map(where)).toEqual([
      'compose.yaml services.livekit-jwt.deploy.replicas [replicas-without-redis]',
    ]);
    expect(composeFile[0]!.message).toMatch(/^is 3 without LIVEKIT_REDIS_URL/);
  });
});

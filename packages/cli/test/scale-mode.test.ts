import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';
import {
  composeSchemaValidator,
  dockerComposeConfigIn,
  readCompose,
} from './compose-validation.ts';

// Scale mode: `init --scale` adds compose.scale.yaml through COMPOSE_FILE in .env. Compose
// itself (docker-compose, offline) merges the files here, so the assertions are on what compose
// would run, not on our reading of the files.

const SCALE = join(repoRoot, 'docker/compose.scale.yaml');
let scaled: string;
let single: string;
let env: Record<string, string>;
let merged: Parsed;

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

beforeAll(async () => {
  scaled = tempDir();
  single = tempDir();
  expect((await initDeployment(scaled, '--scale')).code).toBe(0);
  expect((await initDeployment(single)).code).toBe(0);
  env = parseEnvFile(read(scaled, '.env'));
  const config = dockerComposeConfigIn(scaled, []);
  expect(config).toMatchObject({ status: 0, stderr: '' });
  merged = YAML.parse(config.stdout);
});
afterAll(() => {
  removeDir(scaled);
  removeDir(single);
});

describe('init --scale', () => {
  it('should add a CSPRNG REDIS_PASSWORD, compose.scale.yaml through COMPOSE_FILE and data/redis', () => {
    expect(env.REDIS_PASSWORD).toMatch(/^[0-9a-f]{64}$/);
    expect(env.COMPOSE_FILE).toBe('compose.yaml:compose.scale.yaml');
    expect(read(scaled, 'compose.scale.yaml')).toBe(readFileSync(SCALE, 'utf8'));
    expect(statSync(join(scaled, 'data/redis')).isDirectory()).toBe(true);
    const plain = parseEnvFile(read(single, '.env'));
    expect(plain.REDIS_PASSWORD).toBeUndefined();
    expect(plain.COMPOSE_FILE).toBeUndefined();
    expect(existsSync(join(single, 'compose.scale.yaml'))).toBe(false);
  });

  it('should keep REDIS_PASSWORD on a re-run and change nothing', async () => {
    const again = await initDeployment(scaled, '--scale');
    expect(again.code).toBe(0);
    expect(again.out.join('\n')).toMatch(/Kept existing secrets: .*REDIS_PASSWORD/);
    expect(again.out).toContain(
      'Unchanged: .env, compose.yaml, compose.scale.yaml, livekit.yaml, turnserver.conf, continuwuity.toml, secrets/turn_secret, secrets/registration_token',
    );
    expect(parseEnvFile(read(scaled, '.env')).REDIS_PASSWORD).toBe(env.REDIS_PASSWORD);
  });

  it('should give LiveKit the redis section only in scale mode, and the webhook in both', () => {
    const livekit = YAML.parse(read(scaled, 'livekit.yaml'));
    expect(livekit.redis).toEqual({ address: 'redis:6379', password: env.REDIS_PASSWORD });
    const plain = YAML.parse(read(single, 'livekit.yaml'));
    expect(plain.redis).toBeUndefined();
    for (const config of [livekit, plain] as Parsed[]) {
      expect(config.webhook).toEqual({
        api_key: Object.keys(config.keys as Record<string, string>)[0],
        urls: ['http://livekit-jwt:8080/sfu_webhook'],
      });
    }
  });
});

describe('docker/compose.scale.yaml', () => {
  it('should be valid against the compose-spec JSON schema', () => {
    expect(composeSchemaValidator()(readCompose(SCALE))).toEqual([]);
  });

  it('should be merged by compose from .env alone, with the standalone profile too', () => {
    const services = (args: Record<string, string> = {}): string[] =>
      dockerComposeConfigIn(scaled, ['--services'], args).stdout.trim().split('\n').sort();
    expect(services()).toContain('redis');
    expect(services({ COMPOSE_PROFILES: 'standalone', TRAEFIK_NETWORK: 'p' })).toEqual([
      'continuwuity',
      'coturn',
      'livekit',
      'livekit-jwt',
      'redis',
      'traefik',
      'well-known',
    ]);
    expect(dockerComposeConfigIn(single, ['--services']).stdout).not.toMatch(/^redis$/m);
  });

  it('should run livekit-jwt as several hardened replicas sharing Redis behind the same router', () => {
    const jwt = merged.services['livekit-jwt'];
    expect(jwt.deploy.replicas).toBeGreaterThan(1);
    expect(jwt.environment.LIVEKIT_REDIS_URL).toBe(`redis://:${env.REDIS_PASSWORD!}@redis:6379/1`);
    expect(jwt).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      depends_on: {
        redis: { condition: 'service_healthy' },
        livekit: { condition: 'service_healthy' },
      },
    });
    // Replicas cannot share a container name or a host port.
    expect(jwt.container_name).toBeUndefined();
    expect(jwt.ports).toBeUndefined();
    const plain = readCompose(join(repoRoot, 'docker/compose.yaml')).services['livekit-jwt'];
    const rule = plain.labels['traefik.http.routers.rtc-livekit-jwt.rule'] as string;
    expect(jwt.labels['traefik.http.routers.rtc-livekit-jwt.rule']).toBe(
      rule.replace('${SERVER_NAME}', env.SERVER_NAME!),
    );
  });

  it('should run Redis pinned, hardened, non-root, password-protected, persistent and internal', () => {
    const redis = merged.services.redis;
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+-alpine$/);
    expect(readCompose(SCALE).services.redis.user).toBe('${RTC_UID:-1000}:${RTC_GID:-1000}');
    expect(redis).toMatchObject({
      restart: 'unless-stopped',
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      environment: { REDISCLI_AUTH: env.REDIS_PASSWORD },
      healthcheck: { test: ['CMD-SHELL', 'redis-cli ping | grep -q PONG'] },
      networks: { internal: {} },
    });
    expect(redis.command).toEqual([
      'redis-server',
      '--appendonly',
      'yes',
      '--requirepass',
      env.REDIS_PASSWORD,
    ]);
    expect(redis.volumes).toEqual([`${join(scaled, 'data/redis')}:/data:rw`]);
    expect(redis.ports).toBeUndefined();
  });

  it('should start LiveKit after Redis and leave the rest of it as in compose.yaml', () => {
    const { depends_on: dependsOn, ...livekit } = merged.services.livekit;
    expect(dependsOn).toEqual({ redis: { condition: 'service_healthy' } });
    const plain = YAML.parse(dockerComposeConfigIn(single, []).stdout).services.livekit;
    expect(JSON.parse(JSON.stringify(livekit).replaceAll(scaled, single))).toEqual(plain);
  });
});

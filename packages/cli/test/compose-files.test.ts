import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { interpolateDeep } from '../src/check/interpolate.ts';
import { initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';
import { composeSchemaValidator, dockerComposeConfig, readCompose } from './compose-validation.ts';
import {
  LIVEKIT_JWT_PATHS,
  pickRouter,
  publicPathsOf,
  WELL_KNOWN_PATHS,
  WELL_KNOWN_PUBLIC,
} from './traefik-model.ts';

const COMPOSE = join(repoRoot, 'docker/compose.yaml');

const validate = composeSchemaValidator();
const raw = readCompose(COMPOSE);
let deployment: string;
let env: Record<string, string>;
let resolved: Parsed;

beforeAll(async () => {
  deployment = tempDir();
  const run = await initDeployment(deployment);
  expect(run.code).toBe(0);
  env = parseEnvFile(readFileSync(join(deployment, '.env'), 'utf8'));
  resolved = interpolateDeep(raw, env);
});
afterAll(() => {
  removeDir(deployment);
});

/** The services of a parsed compose file as `[name, service]` pairs. */
function servicesOf(compose: Parsed): [string, Parsed][] {
  return Object.entries(compose.services as Record<string, Parsed>);
}

/** Which router Traefik picks for a request (see traefik-model.ts). */
function route(compose: Parsed, host: string, path: string): string | undefined {
  return pickRouter(compose, host, path)?.name;
}

describe('docker/compose.yaml', () => {
  it('should be valid against the compose-spec JSON schema', () => {
    expect(validate(raw)).toEqual([]);
  });

  it('should be accepted by docker-compose config -q as init writes it, standalone profile included', () => {
    const file = join(deployment, 'compose.yaml');
    expect(dockerComposeConfig(file, env)).toMatchObject({ status: 0, stderr: '' });
    const standalone = {
      ...env,
      COMPOSE_PROFILES: 'standalone',
      TRAEFIK_NETWORK: 'rtc-sidecars-proxy',
    };
    expect(dockerComposeConfig(file, standalone)).toMatchObject({ status: 0, stderr: '' });
    const services = dockerComposeConfig(file, standalone, ['--services']);
    expect(services.stdout.trim().split('\n').sort()).toEqual([
      'continuwuity',
      'coturn',
      'livekit',
      'livekit-jwt',
      'traefik',
      'well-known',
    ]);
  });

  it('should be caught by both validators when broken the way the seed was (top-level network priority)', () => {
    const broken = structuredClone(raw);
    broken.networks.proxy.priority = 1;
    expect(validate(broken)).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
    const file = join(deployment, 'broken.yaml');
    writeFileSync(
      file,
      readFileSync(COMPOSE, 'utf8').replace(
        '    external: true\n',
        '    external: true\n    priority: 1\n',
      ),
    );
    const result = dockerComposeConfig(file, env);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/priority/);
  });

  it('should pin every image to a version', () => {
    for (const [name, service] of servicesOf(raw)) {
      expect(service.image, name).toMatch(/:v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/);
      expect(service.image, name).not.toMatch(/:latest|:main/);
    }
  });

  it('should restart everything unless stopped and harden our containers', () => {
    for (const [name, service] of servicesOf(raw)) {
      expect(service.restart, name).toBe('unless-stopped');
    }
    for (const name of ['well-known', 'livekit-jwt']) {
      const s = raw.services[name];
      expect(s, name).toMatchObject({
        read_only: true,
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
      });
      expect(s.healthcheck.test, name).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
      expect(s.build).toMatchObject({
        dockerfile: 'docker/service.Dockerfile',
        args: { SERVICE: name },
      });
    }
    expect(raw.services.continuwuity.user).toBe('${RTC_UID:-1000}:${RTC_GID:-1000}');
    expect(raw.services.coturn.network_mode).toBe('host');
  });

  it('should start services only once what they need is healthy or started', () => {
    expect(raw.services['livekit-jwt'].depends_on).toEqual({
      livekit: { condition: 'service_healthy' },
      continuwuity: { condition: 'service_started' },
    });
    expect(raw.services['well-known'].depends_on).toEqual({
      continuwuity: { condition: 'service_started' },
    });
    expect(raw.services.livekit.healthcheck.test).toContain('http://127.0.0.1:7880/');
  });

  it('should route each path to the right service with explicit priorities', () => {
    const host = 'hi.example.org';
    const cases: [string, string][] = [
      ['/.well-known/matrix/client', 'rtc-well-known'],
      ['/.well-known/matrix/server', 'rtc-well-known'],
      ['/_matrix/client/v1/rtc/transports', 'rtc-transports'],
      ['/_matrix/client/unstable/org.matrix.msc4143/rtc/transports', 'rtc-transports'],
      ['/livekit-jwt/sfu/get', 'rtc-livekit-jwt'],
      ['/livekit-jwt/get_token', 'rtc-livekit-jwt'],
      ['/livekit-jwt/delegate_delayed_leave', 'rtc-livekit-jwt'],
      ['/livekit-jwt/healthz', 'rtc-livekit-jwt'],
      ['/livekit-jwt/metrics', 'rtc-homeserver'],
      ['/livekit-jwt/sfu_webhook', 'rtc-homeserver'],
      ['/livekit/sfu/rtc', 'rtc-livekit'],
      ['/livekit/sfu/twirp/livekit.RoomService/CreateRoom', 'rtc-livekit'],
      ['/_matrix/client/versions', 'rtc-homeserver'],
      ['/_matrix/federation/v1/openid/userinfo', 'rtc-homeserver'],
      ['/_matrix/client/v1/rtc/transports/x', 'rtc-homeserver'],
      ['/', 'rtc-homeserver'],
    ];
    for (const [path, router] of cases) expect(route(resolved, host, path), path).toBe(router);
    expect(route(resolved, 'other.example.org', '/.well-known/matrix/client')).toBeUndefined();
    const labels = resolved.services['livekit-jwt'].labels;
    expect(labels['traefik.http.middlewares.rtc-livekit-jwt-strip.stripprefix.prefixes']).toBe(
      '/livekit-jwt',
    );
    expect(
      resolved.services.livekit.labels[
        'traefik.http.middlewares.rtc-livekit-strip.stripprefix.prefixes'
      ],
    ).toBe('/livekit/sfu');
  });

  it('should make public only the routes clients use, never /metrics or /sfu_webhook', () => {
    expect(publicPathsOf(resolved, 'hi.example.org', 'livekit-jwt', LIVEKIT_JWT_PATHS)).toEqual([
      '/delegate_delayed_leave',
      '/get_token',
      '/healthz',
      '/sfu/get',
    ]);
    expect(publicPathsOf(resolved, 'hi.example.org', 'well-known', WELL_KNOWN_PATHS)).toEqual(
      WELL_KNOWN_PUBLIC,
    );
  });

  it("should trust X-Forwarded-For from the deployment's own Traefik only, by name", async () => {
    // Runtipi's Traefik is the container runtipi-reverse-proxy on the shared main network.
    expect(resolved.services['livekit-jwt'].environment.LIVEKIT_JWT_TRUST_PROXY).toBe(
      'runtipi-reverse-proxy',
    );
    const standalone = tempDir();
    try {
      const run = await initDeployment(
        standalone,
        '--proxy',
        'standalone',
        '--acme-email',
        'you@example.org',
      );
      expect(run.code).toBe(0);
      const own = parseEnvFile(readFileSync(join(standalone, '.env'), 'utf8'));
      const compose = interpolateDeep(raw, own) as Parsed;
      // The bundled Traefik: the compose service of that name, on the proxy network.
      expect(compose.services['livekit-jwt'].environment.LIVEKIT_JWT_TRUST_PROXY).toBe('traefik');
      expect(Object.keys(compose.services.traefik.networks as object)).toEqual(['proxy']);
    } finally {
      removeDir(standalone);
    }
  });

  it('should join the external Traefik network by default and bring its own Traefik only in the standalone profile', () => {
    expect(raw.networks.proxy).toEqual({
      external: true,
      name: '${TRAEFIK_NETWORK:-runtipi_tipi_main_network}',
    });
    expect(raw.services.traefik.profiles).toEqual(['standalone']);
    for (const [name, service] of servicesOf(raw)) {
      if (name !== 'traefik') expect(service.profiles, name).toBeUndefined();
    }
    const command = (raw.services.traefik.command as string[]).join(' ');
    expect(command).toContain('--certificatesresolvers.myresolver.acme.tlschallenge=true');
    expect(command).toContain(
      '--entrypoints.websecure.http.encodedCharacters.allowEncodedSlash=true',
    );
  });
});

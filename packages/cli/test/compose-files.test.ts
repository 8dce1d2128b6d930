import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { interpolateDeep } from '../src/check/interpolate.ts';
import { initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';
import { composeSchemaValidator, dockerComposeConfig, readCompose } from './compose-validation.ts';

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

/** Evaluates `true`/`false` joined by `&&`, `||` and parentheses (`&&` binds tighter). */
function evaluate(expr: string): boolean {
  const tokens = expr.match(/true|false|&&|\|\||\(|\)/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`unsupported rule: ${expr}`);
  let i = 0;
  const atom = (): boolean => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      i++;
      return v;
    }
    return t === 'true';
  };
  const and = (): boolean => {
    let v = atom();
    while (tokens[i] === '&&') {
      i++;
      v = atom() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (tokens[i] === '||') {
      i++;
      v = and() || v;
    }
    return v;
  };
  return or();
}

/** Which router Traefik picks for a request: the matching one with the highest priority. */
function route(compose: Parsed, host: string, path: string): string | undefined {
  const routers: { name: string; rule: string; priority: number }[] = [];
  for (const [, service] of servicesOf(compose)) {
    const labels = (service.labels ?? {}) as Record<string, string>;
    for (const [key, rule] of Object.entries(labels)) {
      const m = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(key);
      if (m === null) continue;
      routers.push({
        name: m[1]!,
        rule,
        priority: Number(labels[`traefik.http.routers.${m[1]!}.priority`] ?? rule.length),
      });
    }
  }
  // The rule language used here: Host, Path, PathPrefix, &&, || and parentheses.
  const matches = (rule: string): boolean => {
    const js = rule
      .replace(/Host\(`([^`]*)`\)/g, (_, h: string) => String(h === host))
      .replace(/PathPrefix\(`([^`]*)`\)/g, (_, p: string) => String(path.startsWith(p)))
      .replace(/Path\(`([^`]*)`\)/g, (_, p: string) => String(path === p));
    return evaluate(js);
  };
  return routers.filter((r) => matches(r.rule)).sort((a, b) => b.priority - a.priority)[0]?.name;
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

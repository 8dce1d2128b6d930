import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { checkDeployment } from '../src/check/check-deployment.ts';
import { interpolateDeep } from '../src/check/interpolate.ts';
import { parseTurnserverConf } from '../src/check/turnserver-conf-file.ts';
import { parseEnvFile } from '../src/deployment/env-file.ts';
import { SETTINGS } from '../src/deployment/settings-table.ts';
import { cli, copyDeployment, type Parsed, PUBLIC_IP, removeDir, tempDir } from './cli-harness.ts';

// `.env` is the deployment's source of truth: hand edits survive a re-run of init without flags,
// and every other file is rendered again from them.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

/** Every file of a deployment, parsed as the services read them. */
function load(dir: string) {
  const env = parseEnvFile(read(dir, '.env'));
  const files = (env.COMPOSE_FILE ?? 'compose.yaml').split(':');
  const compose: Parsed = interpolateDeep(
    YAML.parse(read(dir, 'compose.yaml'), { merge: true }),
    env,
  );
  const livekit: Parsed = YAML.parse(read(dir, 'livekit.yaml'));
  return {
    env,
    compose,
    composeFiles: files,
    livekit,
    toml: (parseToml(read(dir, 'continuwuity.toml')) as Parsed).global,
    coturn: parseTurnserverConf(read(dir, 'turnserver.conf')),
  };
}

/** A standalone deployment (so every port and proxy setting is in play), made once per test. */
async function standalone(...extra: string[]): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const run = await cli([
    'init',
    dir,
    '--domain',
    'hi.example.org',
    '--external-ip',
    PUBLIC_IP,
    '--proxy',
    'standalone',
    '--acme-email',
    'you@example.org',
    ...extra,
  ]);
  expect(run.err).toEqual([]);
  expect(run.code).toBe(0);
  return dir;
}

/** Replaces `KEY=…` lines of `.env` as an operator would in an editor. */
function editEnv(dir: string, edits: Record<string, string>): void {
  let text = read(dir, '.env');
  for (const [key, value] of Object.entries(edits)) {
    const line = new RegExp(`^${key}=.*$`, 'm');
    if (!line.test(text)) throw new Error(`.env has no ${key}`);
    text = text.replace(line, `${key}=${value}`);
  }
  writeFileSync(join(dir, '.env'), text);
}

type Loaded = ReturnType<typeof load>;

/** One hand edit per setting and where its effect must show after `init DIR`. */
const HAND_EDITS: Record<string, { edit: Record<string, string>; shows: (d: Loaded) => void }> = {
  'allow-private-ip': {
    edit: { ALLOW_PRIVATE_IP: 'on', EXTERNAL_IP: '10.0.0.5' },
    shows: (d) => {
      expect(d.livekit.rtc.node_ip).toBe('10.0.0.5');
      expect(d.coturn.get('external-ip')).toEqual(['10.0.0.5']);
    },
  },
  'external-ip': {
    edit: { EXTERNAL_IP: '45.67.89.11' },
    shows: (d) => {
      expect(d.livekit.rtc.node_ip).toBe('45.67.89.11');
      expect(d.coturn.get('external-ip')).toEqual(['45.67.89.11']);
    },
  },
  'turn-host': {
    edit: { TURN_HOST: 'turn.example.org' },
    shows: (d) => {
      expect(d.toml.turn_uris).toEqual([
        'turn:turn.example.org:3478?transport=udp',
        'turn:turn.example.org:3478?transport=tcp',
      ]);
      expect(d.coturn.get('realm')).toEqual(['turn.example.org']);
    },
  },
  federation: {
    edit: { FEDERATION: 'off' },
    shows: (d) => {
      expect(d.toml.forbidden_remote_server_names).toEqual(['.*']);
      expect(d.toml.allow_federation).toBe(true);
    },
  },
  registration: {
    edit: { REGISTRATION: 'off' },
    shows: (d) => {
      expect(d.toml.allow_registration).toBe(false);
    },
  },
  proxy: {
    edit: { PROXY: 'external' },
    shows: (d) => {
      expect(d.env.COMPOSE_PROFILES).toBe('');
    },
  },
  'traefik-network': {
    edit: { TRAEFIK_NETWORK: 'my-proxy' },
    shows: (d) => {
      expect(d.compose.networks.proxy.name).toBe('my-proxy');
    },
  },
  'trusted-proxy': {
    edit: { TRUSTED_PROXY: 'traefik,10.0.0.0/8' },
    shows: (d) => {
      expect(d.compose.services['livekit-jwt'].environment.LIVEKIT_JWT_TRUST_PROXY).toBe(
        'traefik,10.0.0.0/8',
      );
    },
  },
  'acme-email': {
    edit: { ACME_EMAIL: 'other@example.org' },
    shows: (d) => {
      expect(d.compose.services.traefik.command).toContain(
        '--certificatesresolvers.myresolver.acme.email=other@example.org',
      );
    },
  },
  scale: {
    edit: { SCALE: 'on' },
    shows: (d) => {
      expect(d.composeFiles).toEqual(['compose.yaml', 'compose.scale.yaml']);
      expect(d.livekit.redis.password).toBe(d.env.REDIS_PASSWORD);
    },
  },
  'https-port': {
    edit: { HTTPS_PORT: '8443' },
    shows: (d) => {
      expect(d.compose.services.traefik.ports).toContain('8443:443/tcp');
    },
  },
  'http-port': {
    edit: { HTTP_PORT: '8081' },
    shows: (d) => {
      expect(d.compose.services.traefik.ports).toContain('8081:80/tcp');
    },
  },
  'livekit-tcp-port': {
    edit: { LIVEKIT_RTC_TCP_PORT: '7891' },
    shows: (d) => {
      expect(d.livekit.rtc.tcp_port).toBe(7891);
      expect(d.compose.services.livekit.ports).toContain('7891:7891/tcp');
    },
  },
  'livekit-udp-ports': {
    edit: { LIVEKIT_RTC_UDP_PORT_START: '50300', LIVEKIT_RTC_UDP_PORT_END: '50400' },
    shows: (d) => {
      expect(d.livekit.rtc).toMatchObject({ port_range_start: 50300, port_range_end: 50400 });
      expect(d.compose.services.livekit.ports).toContain('50300-50400:50300-50400/udp');
    },
  },
  'turn-port': {
    edit: { TURN_PORT: '3479' },
    shows: (d) => {
      expect(d.coturn.get('listening-port')).toEqual(['3479']);
      expect(d.toml.turn_uris[0]).toBe('turn:hi.example.org:3479?transport=udp');
    },
  },
  'turn-relay-ports': {
    edit: { TURN_RELAY_PORT_MIN: '49300', TURN_RELAY_PORT_MAX: '49400' },
    shows: (d) => {
      expect(d.coturn.get('min-port')).toEqual(['49300']);
      expect(d.coturn.get('max-port')).toEqual(['49400']);
    },
  },
  source: {
    edit: { RTC_SIDECARS_SRC: '' },
    shows: (d) => {
      expect(d.env.RTC_SIDECARS_SRC).toBe('');
    },
  },
  uid: {
    edit: { RTC_UID: '1234' },
    shows: (d) => {
      expect(d.compose.services.livekit.user).toMatch(/^1234:/);
    },
  },
  gid: {
    edit: { RTC_GID: '4321' },
    shows: (d) => {
      expect(d.compose.services.livekit.user).toMatch(/:4321$/);
    },
  },
};

describe('init keeps .env as the source of truth', () => {
  it('should have a hand-edit case for every setting but the permanent server name', () => {
    const names = SETTINGS.map((s) => s.name).filter((n) => n !== 'domain');
    expect(Object.keys(HAND_EDITS).sort()).toEqual(names.sort());
  });

  it.each(Object.entries(HAND_EDITS))(
    'should keep a hand edit of %s on a re-run without flags and render it everywhere',
    async (_name, { edit, shows }) => {
      const dir = await standalone();
      const secrets = load(dir).env;
      editEnv(dir, edit);
      const run = await cli(['init'], dir);
      expect(run.err).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.out.filter((l) => l.startsWith('Changed'))).toEqual([]);
      const after = load(dir);
      expect(after.env).toMatchObject(edit);
      for (const key of ['TURN_SECRET', 'LIVEKIT_KEY', 'LIVEKIT_SECRET']) {
        expect(after.env[key], key).toBe(secrets[key]);
      }
      shows(after);
      expect(checkDeployment(dir)).toEqual([]);
      // And a second run changes nothing at all.
      const again = await cli(['init', dir]);
      expect(again.out.some((l) => l.startsWith('Wrote'))).toBe(false);
    },
  );

  it('should keep every value on a re-run without flags, in the folder or named as argument', async () => {
    const dir = await standalone(
      '--federation',
      'off',
      '--registration',
      'open',
      '--scale',
      '--turn-port',
      '3479',
    );
    const before = read(dir, '.env');
    const inside = await cli(['init'], dir);
    expect(inside.code).toBe(0);
    expect(inside.out).toContain(
      'Unchanged: .env, compose.yaml, compose.scale.yaml, livekit.yaml, turnserver.conf, continuwuity.toml, secrets/turn_secret',
    );
    const named = await cli(['init', dir]);
    expect(named.code).toBe(0);
    expect(read(dir, '.env')).toBe(before);
    expect(load(dir).env).toMatchObject({
      PROXY: 'standalone',
      FEDERATION: 'off',
      REGISTRATION: 'open',
      SCALE: 'on',
      TURN_PORT: '3479',
    });
  });

  it('should report a flag that changes a value, and keep the rest', async () => {
    const dir = await standalone();
    const run = await cli([
      'init',
      dir,
      '--federation',
      'off',
      '--livekit-udp-ports',
      '50300-50400',
    ]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Changed FEDERATION: on -> off (--federation)');
    expect(run.out).toContain(
      'Changed LIVEKIT_RTC_UDP_PORT_START/LIVEKIT_RTC_UDP_PORT_END: 50100-50200 -> 50300-50400 (--livekit-udp-ports)',
    );
    expect(load(dir).env).toMatchObject({ PROXY: 'standalone', ACME_EMAIL: 'you@example.org' });
  });

  it('should refuse a change of proxy mode without --force and switch with it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const base = ['init', dir, '--domain', 'hi.example.org', '--external-ip', PUBLIC_IP];
    expect((await cli(base)).code).toBe(0);
    const before = read(dir, '.env');
    const refused = await cli([
      'init',
      dir,
      '--proxy',
      'standalone',
      '--acme-email',
      'a@example.org',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.err).toEqual([
      'rtc-sidecars init: --proxy standalone switches this deployment from the external proxy: stop it first (docker compose down), then run init again with --force',
    ]);
    expect(read(dir, '.env')).toBe(before);
    const forced = await cli([
      'init',
      dir,
      '--proxy',
      'standalone',
      '--acme-email',
      'a@example.org',
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('Changed PROXY: external -> standalone (--proxy)');
    expect(forced.out).toContain(
      'Changed TRAEFIK_NETWORK: runtipi_tipi_main_network -> rtc-sidecars-proxy (its default follows)',
    );
    expect(load(dir).env).toMatchObject({ COMPOSE_PROFILES: 'standalone' });
    expect(load(dir).env.TURN_SECRET).toBe(parseEnvFile(before).TURN_SECRET);
  });

  it('should refuse a hand-edited server name that differs from the homeserver of the folder', async () => {
    const dir = await standalone();
    editEnv(dir, { SERVER_NAME: 'other.example.org' });
    const run = await cli(['init', dir]);
    expect(run.code).toBe(2);
    expect(run.err[0]).toMatch(/this folder's homeserver is "hi.example.org".*--force/);
    const forced = await cli(['init', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.err[0]).toMatch(/holds the database of the old server name/);
    expect(load(dir).toml.server_name).toBe('other.example.org');
  });

  it('should name the .env key of a bad hand-edited value', async () => {
    const dir = await standalone();
    editEnv(dir, { EXTERNAL_IP: '192.168.1.10' });
    const run = await cli(['init', dir]);
    expect(run.code).toBe(2);
    expect(run.err).toEqual([
      `rtc-sidecars init: EXTERNAL_IP in ${dir}/.env "192.168.1.10" is not a public address: it is a private network address (RFC 1918: 10/8, 172.16/12, 192.168/16). Give this server's public address; for a lab or test set-up that is never reached from the internet, add --allow-private-ip`,
    ]);
    editEnv(dir, { EXTERNAL_IP: PUBLIC_IP, TURN_PORT: 'x' });
    expect((await cli(['init', dir])).err).toEqual([
      `rtc-sidecars init: TURN_PORT in ${dir}/.env must be a port 1-65535, got "x"`,
    ]);
  });

  it('should accept a lab address with --allow-private-ip and remember it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const run = await cli([
      'init',
      dir,
      '--domain',
      'hi.example.org',
      '--external-ip',
      '203.0.113.5',
      '--allow-private-ip',
    ]);
    expect(run.code).toBe(0);
    expect(run.out.join('\n')).toMatch(
      /ALLOW_PRIVATE_IP=on: 203\.0\.113\.5 is advertised as it is/,
    );
    expect((await cli(['init', dir])).code).toBe(0);
    const off = await cli(['init', dir, '--no-allow-private-ip']);
    expect(off.code).toBe(2);
    expect(off.err[0]).toMatch(/EXTERNAL_IP in .*"203\.0\.113\.5" is not a public address/);
  });

  it("should keep the operator's own .env lines and COMPOSE_FILE additions", async () => {
    const dir = await standalone();
    writeFileSync(
      join(dir, '.env'),
      `${read(dir, '.env')}\n# mine\nBACKUP_TARGET='/mnt/backup dir'\nCOMPOSE_FILE=compose.yaml:compose.local.yaml\n`,
    );
    writeFileSync(join(dir, 'compose.local.yaml'), 'services: {}\n');
    expect((await cli(['init', dir, '--scale'])).code).toBe(0);
    const { env } = load(dir);
    expect(env.BACKUP_TARGET).toBe('/mnt/backup dir');
    expect(env.COMPOSE_FILE).toBe('compose.yaml:compose.scale.yaml:compose.local.yaml');
    expect((await cli(['init', dir, '--no-scale'])).code).toBe(0);
    expect(load(dir).env.COMPOSE_FILE).toBe('compose.yaml:compose.local.yaml');
    expect(load(dir).env.REDIS_PASSWORD).toBeDefined();
  });

  it('should bring an .env from an older init up to date and name the new settings', async () => {
    const dir = await standalone('--scale');
    const old = read(dir, '.env')
      .split('\n')
      .filter((l) => !/^(SCALE|HTTPS_PORT|HTTP_PORT|ALLOW_PRIVATE_IP)=/.test(l))
      .join('\n');
    writeFileSync(join(dir, '.env'), old);
    const run = await cli(['init', dir]);
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      'New settings, at their defaults: ALLOW_PRIVATE_IP=off, SCALE=on, HTTPS_PORT=443, HTTP_PORT=80',
    );
    expect(existsSync(join(dir, 'compose.scale.yaml'))).toBe(true);
  });

  it('should list every setting flag in --help', async () => {
    const run = await cli(['init', '--help']);
    for (const spec of SETTINGS.filter((s) => s.flag !== false)) {
      expect(run.out[0]).toContain(`--${spec.name}`);
    }
  });

  it('should leave an unchanged copy alone (no backups) and back up a changed file', async () => {
    const dir = await standalone();
    const copy = copyDeployment(dir);
    dirs.push(copy);
    const run = await cli(['init', copy, '--turn-port', '3479']);
    expect(
      run.out.some((l) => /^Backed up turnserver\.conf to turnserver\.conf\.bak-/.test(l)),
    ).toBe(true);
    expect(run.out.some((l) => l.startsWith('Backed up compose.yaml'))).toBe(false);
  });
});

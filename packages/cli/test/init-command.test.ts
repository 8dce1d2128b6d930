import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { interpolateDeep } from '../src/check/interpolate.ts';
import { parseTurnserverConf } from '../src/check/turnserver-conf-file.ts';
import { cli, initDeployment, type Parsed, PUBLIC_IP, removeDir, tempDir } from './cli-harness.ts';

const dirs: string[] = [];
function workDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

function load(dir: string) {
  const env = parseEnvFile(read(dir, '.env'));
  const compose = interpolateDeep(
    YAML.parse(read(dir, 'compose.yaml'), { merge: true }),
    env,
  ) as Parsed;
  return {
    env,
    compose,
    livekit: YAML.parse(read(dir, 'livekit.yaml')),
    toml: (parseToml(read(dir, 'continuwuity.toml')) as Parsed).global,
    coturn: parseTurnserverConf(read(dir, 'turnserver.conf')),
  };
}

describe('rtc-sidecars init', () => {
  it('should write every file with CSPRNG secrets and the secret-bearing ones with mode 0600', async () => {
    const dir = join(workDir(), 'deploy');
    const run = await initDeployment(dir);
    expect(run.code).toBe(0);
    for (const file of ['.env', 'livekit.yaml', 'turnserver.conf', 'continuwuity.toml']) {
      expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(existsSync(join(dir, 'compose.yaml'))).toBe(true);
    const { env } = load(dir);
    expect(env.TURN_SECRET).toMatch(/^[0-9a-f]{64,}$/);
    expect(env.LIVEKIT_KEY!.length).toBeGreaterThanOrEqual(32);
    expect(env.LIVEKIT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(env.REGISTRATION_TOKEN!.length).toBeGreaterThanOrEqual(32);
    const again = await initDeployment(join(workDir(), 'other'));
    expect(again.code).toBe(0);
    expect(load(join(dirs.at(-1)!, 'other')).env.TURN_SECRET).not.toBe(env.TURN_SECRET);
  });

  it('should derive every file from the same secrets and URLs', async () => {
    const dir = workDir();
    expect((await initDeployment(dir)).code).toBe(0);
    const { env, compose, livekit, toml, coturn } = load(dir);
    // TURN: one secret in coturn and the homeserver, URIs as an array.
    expect(coturn.get('static-auth-secret')).toEqual([env.TURN_SECRET]);
    // The homeserver reads it from secrets/ (mounted read-only): the TOML holds no secret.
    expect(toml.turn_secret).toBeUndefined();
    expect(toml.turn_secret_file).toBe('/etc/continuwuity/secrets/turn_secret');
    expect(read(dir, 'secrets/turn_secret')).toBe(env.TURN_SECRET);
    expect(compose.services.continuwuity.volumes).toContain(
      './secrets:/etc/continuwuity/secrets:ro',
    );
    expect(read(dir, 'continuwuity.toml')).not.toContain(env.TURN_SECRET);
    expect(toml.turn_uris).toEqual([
      'turn:hi.example.org:3478?transport=udp',
      'turn:hi.example.org:3478?transport=tcp',
    ]);
    // LiveKit: the pair in livekit.yaml is the pair livekit-jwt signs with.
    const jwt = compose.services['livekit-jwt'].environment;
    expect(livekit.keys).toEqual({ [env.LIVEKIT_KEY!]: env.LIVEKIT_SECRET });
    expect(jwt.LIVEKIT_KEY).toBe(env.LIVEKIT_KEY);
    expect(jwt.LIVEKIT_SECRET).toBe(env.LIVEKIT_SECRET);
    expect(jwt.LIVEKIT_URL).toBe('wss://hi.example.org/livekit/sfu');
    expect(jwt.LIVEKIT_FULL_ACCESS_HOMESERVERS).toBe('hi.example.org');
    expect(jwt.LIVEKIT_OPENID_OVERRIDES).toBe('hi.example.org=http://continuwuity:8008');
    // Foci: the homeserver and the well-known service name the same JWT URL.
    const wk = compose.services['well-known'].environment;
    expect(toml.matrix_rtc.foci).toEqual([
      { type: 'livekit', livekit_service_url: wk.WELL_KNOWN_LIVEKIT_SERVICE_URLS },
    ]);
    expect(wk.WELL_KNOWN_LIVEKIT_SERVICE_URLS).toBe('https://hi.example.org/livekit-jwt');
    expect(wk.WELL_KNOWN_HOMESERVER_BASE_URL).toBe(toml.well_known.client);
    expect(wk.WELL_KNOWN_SERVER).toBe(toml.well_known.server);
    // Media: LiveKit advertises the public address one way only; ports are published as configured.
    expect(livekit.rtc).toMatchObject({ node_ip: PUBLIC_IP, use_external_ip: false });
    expect(coturn.get('external-ip')).toEqual([PUBLIC_IP]);
    expect(compose.services.livekit.ports).toContain('7881:7881/tcp');
    expect(compose.services.livekit.ports).toContain('50100-50200:50100-50200/udp');
  });

  it('should enable presence explicitly and carry no Conduit-era key', async () => {
    const dir = workDir();
    expect((await initDeployment(dir)).code).toBe(0);
    const { toml } = load(dir);
    expect(toml).toMatchObject({
      allow_local_presence: true,
      allow_incoming_presence: true,
      allow_outgoing_presence: true,
      presence_idle_timeout_s: 300,
      presence_offline_timeout_s: 1800,
    });
    for (const file of readdirSync(dir).filter((f) => !statSync(join(dir, f)).isDirectory())) {
      const text = read(dir, file);
      expect(text, file).not.toMatch(/CONDUIT_CONFIG|\ballow_presence\b|\bpresence_timeout\b/);
    }
  });

  it('should write federation "off" as allow_federation = true with every remote server forbidden', async () => {
    const dir = workDir();
    expect((await initDeployment(dir, '--federation', 'off')).code).toBe(0);
    const { toml } = load(dir);
    expect(toml.allow_federation).toBe(true);
    expect(toml.forbidden_remote_server_names).toEqual(['.*']);
    expect(toml.allow_outgoing_presence).toBe(false);
    expect(read(dir, 'continuwuity.toml')).toMatch(/openid\/userinfo/);
  });

  it('should configure each registration mode', async () => {
    const open = workDir();
    expect((await initDeployment(open, '--registration', 'open')).code).toBe(0);
    expect(load(open).toml).toMatchObject({
      allow_registration: true,
      yes_i_am_very_very_sure_i_want_an_open_registration_server_prone_to_abuse: true,
    });
    expect(load(open).env.REGISTRATION_TOKEN).toBeUndefined();
    const off = workDir();
    expect((await initDeployment(off, '--registration', 'off')).code).toBe(0);
    expect(load(off).toml.allow_registration).toBe(false);
    expect(load(off).toml.registration_token).toBeUndefined();
    const token = workDir();
    expect((await initDeployment(token)).code).toBe(0);
    expect(load(token).toml.registration_token).toBeUndefined();
    expect(load(token).toml.registration_token_file).toBe(
      '/etc/continuwuity/secrets/registration_token',
    );
    expect(read(token, 'secrets/registration_token')).toBe(load(token).env.REGISTRATION_TOKEN);
    expect(statSync(join(token, 'secrets/registration_token')).mode & 0o777).toBe(0o600);
  });

  it('should keep existing secrets on a re-run, fill only the missing one and say so', async () => {
    const dir = workDir();
    expect((await initDeployment(dir)).code).toBe(0);
    const first = load(dir).env;
    const env = read(dir, '.env').replace(/^LIVEKIT_SECRET=.*$/m, 'LIVEKIT_SECRET=');
    writeFileSync(join(dir, '.env'), env);
    const run = await initDeployment(dir);
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      'Kept existing secrets: TURN_SECRET, LIVEKIT_KEY, REGISTRATION_TOKEN (use --regenerate-secrets to replace them)',
    );
    expect(run.out).toContain('Generated secrets: LIVEKIT_SECRET');
    const second = load(dir);
    expect(second.env.TURN_SECRET).toBe(first.TURN_SECRET);
    expect(second.env.LIVEKIT_KEY).toBe(first.LIVEKIT_KEY);
    expect(second.env.LIVEKIT_SECRET).not.toBe(first.LIVEKIT_SECRET);
    expect(second.livekit.keys[first.LIVEKIT_KEY!]).toBe(second.env.LIVEKIT_SECRET);
    const third = await initDeployment(dir);
    expect(third.out.some((l) => l.startsWith('Generated secrets'))).toBe(false);
    expect(third.out).toContain(
      'Unchanged: .env, compose.yaml, livekit.yaml, turnserver.conf, continuwuity.toml, secrets/turn_secret, secrets/registration_token',
    );
  });

  it('should regenerate every secret with --regenerate-secrets and keep the old .env as a backup', async () => {
    const dir = workDir();
    expect((await initDeployment(dir)).code).toBe(0);
    const before = read(dir, '.env');
    const run = await initDeployment(dir, '--regenerate-secrets');
    expect(run.code).toBe(0);
    expect(load(dir).env.TURN_SECRET).not.toBe(parseEnvFile(before).TURN_SECRET);
    const backups = readdirSync(dir).filter((f) => f.startsWith('.env.bak-'));
    expect(backups).toHaveLength(1);
    expect(read(dir, backups[0]!)).toBe(before);
    expect(statSync(join(dir, backups[0]!)).mode & 0o777).toBe(0o600);
  });

  it('should refuse to reuse a folder that belongs to another server name', async () => {
    const dir = workDir();
    expect((await initDeployment(dir)).code).toBe(0);
    const run = await cli([
      'init',
      '--domain',
      'other.example.org',
      '--external-ip',
      PUBLIC_IP,
      '--out',
      dir,
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/belongs to "hi.example.org"/);
  });

  it('should print the DNS records, the ports to open and the next command', async () => {
    const dir = workDir();
    const run = await initDeployment(
      dir,
      '--turn-host',
      'turn.example.org',
      '--proxy',
      'standalone',
      '--acme-email',
      'you@example.org',
    );
    const text = run.out.join('\n');
    expect(run.out).toContain('Consistency check: passed');
    expect(text).toContain(`hi.example.org  A  ${PUBLIC_IP}`);
    expect(text).toContain(`turn.example.org  A  ${PUBLIC_IP}`);
    for (const port of [
      '443/tcp',
      '3478/udp',
      '3478/tcp',
      '80/tcp',
      '49160-49200/udp',
      '7881/tcp',
      '50100-50200/udp',
    ]) {
      expect(text).toContain(port);
    }
    expect(text).toContain('docker network create rtc-sidecars-proxy');
    expect(text).toContain(`cd ${dir} && docker compose up -d --build`);
    expect(text).toContain(`rtc-sidecars doctor ${dir}`);
    expect(text).toContain(`rtc-sidecars init ${dir}`);
    expect(load(dir).env).toMatchObject({
      COMPOSE_PROFILES: 'standalone',
      TRAEFIK_NETWORK: 'rtc-sidecars-proxy',
    });
  });

  it.each([
    [['--domain', 'localhost'], /not fully qualified/],
    [['--domain', 'hi.example.org:8448'], /carries a port/],
    [['--domain', '203.0.113.9'], /is an IP address/],
    [['--domain', 'bad_label.example.org'], /not a valid server name/],
    [['--domain', 'x-.example.org'], /not a valid server name/],
    [['--turn-host', 'turn'], /--turn-host "turn" is not fully qualified/],
    [['--domain', 'https://hi.example.org'], /is a URL; give the bare name \(hi.example.org\)/],
    [['--domain', 'hi.example.org/matrix'], /contains a path/],
    [['--external-ip', '10.0.0.5'], /not a public address: it is a private network address/],
    [['--external-ip', '127.0.0.1'], /loopback.*add --allow-private-ip/],
    [['--external-ip', '100.64.1.1'], /carrier-grade NAT/],
    [['--external-ip', '203.0.113.5'], /is a documentation address .*add --allow-private-ip/],
    [['--external-ip', '0.0.0.0', '--allow-private-ip'], /unspecified address\. Give this/],
    [['--proxy', 'standalone'], /--proxy standalone needs --acme-email ADDRESS/],
    [['--acme-email', 'nobody'], /--acme-email "nobody" is not an e-mail address/],
    [['--turn-port', '70000'], /--turn-port must be a port 1-65535/],
    [['--livekit-udp-ports', '50200-50100'], /--livekit-udp-ports must be a port range/],
    [
      ['--turn-relay-ports', '50150-50250'],
      /--turn-relay-ports 50150-50250 overlaps --livekit-udp-ports 50100-50200 \(udp\)/,
    ],
    [['--livekit-tcp-port', '3478'], /--turn-port 3478 overlaps --livekit-tcp-port 3478 \(tcp\)/],
    [['--external-ip', 'example.org'], /not an IP address literal/],
    [['--external-ip', '1.2.3'], /not an IP address literal/],
    [['--federation', 'maybe'], /--federation must be one of on, off/],
    [['--registration', 'yes'], /--registration must be one of open, token, off/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('should refuse %j with a one-line reason, exit 2 and write nothing', async (flags, reason) => {
    const dir = join(workDir(), 'never');
    const base: Record<string, string> = {
      '--domain': 'hi.example.org',
      '--external-ip': PUBLIC_IP,
    };
    const args: string[] = [];
    for (const [k, v] of Object.entries(base)) if (!flags.includes(k)) args.push(k, v);
    const run = await cli(['init', ...args, ...flags, '--out', dir]);
    expect(run.code).toBe(2);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(reason);
    expect(run.out).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('should refuse an unwritable folder with a one-line reason and write nothing', async () => {
    const parent = workDir();
    writeFileSync(join(parent, 'a-file'), 'x');
    const run = await initDeployment(join(parent, 'a-file', 'deploy'));
    expect(run.code).toBe(2);
    expect(run.err).toEqual([expect.stringMatching(/a-file is not a directory$/)]);
    expect(readdirSync(parent)).toEqual(['a-file']);
  });
});

import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { checkDeployment } from '../src/check/check-deployment.ts';
import { interpolateDeep } from '../src/check/interpolate.ts';
import { parseTurnserverConf } from '../src/check/turnserver-conf-file.ts';
import { parseEnvFile } from '../src/deployment/env-file.ts';
import { cli, type Parsed, removeDir, tempDir } from './cli-harness.ts';

// The old deployment's files exactly as its write-up shows them (fixtures/…/README.md).
const FIXTURE = new URL('./fixtures/runtipi-matrix-conduit/', import.meta.url).pathname;
const OLD = parseEnvFile(readFileSync(join(FIXTURE, 'app.env'), 'utf8'));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

/** A copy of the old app folder and an empty folder for the new deployment. */
function folders(): { from: string; to: string } {
  const from = tempDir('rtc-old-');
  const to = join(tempDir('rtc-new-'), 'rtc');
  dirs.push(from, join(to, '..'));
  cpSync(FIXTURE, from, { recursive: true });
  return { from, to };
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

describe('rtc-sidecars migrate', () => {
  it('should keep the domain and every secret, so TURN credentials and LiveKit keys stay valid', async () => {
    const { from, to } = folders();
    const run = await cli(['migrate', '--from', from, to]);
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    const env = parseEnvFile(read(to, '.env'));
    expect(env).toMatchObject({
      SERVER_NAME: 'hi.asapllc.com',
      EXTERNAL_IP: '62.122.185.165',
      TURN_SECRET: OLD.TURN_SECRET,
      LIVEKIT_KEY: OLD.LIVEKIT_API_KEY,
      LIVEKIT_SECRET: OLD.LIVEKIT_API_SECRET,
      TURN_HOST: 'turn.asapllc.com',
      FEDERATION: 'off',
      REGISTRATION: 'token',
    });
    // And they are the ones every service uses.
    const toml = (parseToml(read(to, 'continuwuity.toml')) as Parsed).global;
    expect(toml.server_name).toBe('hi.asapllc.com');
    expect(toml.turn_secret_file).toBe('/etc/continuwuity/secrets/turn_secret');
    expect(read(to, 'secrets/turn_secret')).toBe(OLD.TURN_SECRET);
    expect(toml.turn_uris).toEqual([
      'turn:turn.asapllc.com:3478?transport=udp',
      'turn:turn.asapllc.com:3478?transport=tcp',
    ]);
    expect(parseTurnserverConf(read(to, 'turnserver.conf')).get('static-auth-secret')).toEqual([
      OLD.TURN_SECRET,
    ]);
    const livekit: Parsed = YAML.parse(read(to, 'livekit.yaml'));
    expect(livekit.keys).toEqual({ [OLD.LIVEKIT_API_KEY!]: OLD.LIVEKIT_API_SECRET });
    expect(livekit.rtc).toMatchObject({
      tcp_port: 7881,
      port_range_start: 50000,
      port_range_end: 50200,
      node_ip: '62.122.185.165',
      use_external_ip: false,
    });
    const compose: Parsed = interpolateDeep(
      YAML.parse(read(to, 'compose.yaml'), { merge: true }),
      env,
    );
    expect(compose.services['livekit-jwt'].environment).toMatchObject({
      LIVEKIT_KEY: OLD.LIVEKIT_API_KEY,
      LIVEKIT_SECRET: OLD.LIVEKIT_API_SECRET,
    });
    expect(compose.services['well-known'].environment.WELL_KNOWN_LIVEKIT_SERVICE_URLS).toBe(
      OLD.LIVEKIT_JWT_SERVICE_URL,
    );
    expect(checkDeployment(to)).toEqual([]);
    // The old folder is left as it was.
    expect(readdirSync(from).sort()).toEqual([
      'README.md',
      'app.env',
      'coturn.conf',
      'livekit.yaml',
    ]);
  });

  it('should say what it carried over, what it changed and why, and how to stop the old app', async () => {
    const { from, to } = folders();
    const run = await cli(['migrate', '--from', from, to]);
    const text = run.out.join('\n');
    expect(run.out[0]).toBe(`Migrating from ${from} (app.env, coturn.conf, livekit.yaml)`);
    for (const carried of [
      'server name hi.asapllc.com (APP_DOMAIN)',
      'TURN secret (TURN_SECRET, coturn static-auth-secret): TURN credentials handed out stay valid',
      'LiveKit key lk4a7e8f2c9b1d6e5a and its secret (LIVEKIT_API_KEY/LIVEKIT_API_SECRET = livekit.yaml keys)',
      'LiveKit service URL https://hi.asapllc.com/livekit-jwt (LIVEKIT_JWT_SERVICE_URL): clients need no change',
    ]) {
      expect(text).toContain(carried);
    }
    expect(text).toMatch(
      /federation: ALLOW_FEDERATION=false becomes FEDERATION=off.*OPEN_ID_ERROR/,
    );
    expect(text).toMatch(
      /CONDUIT_ALLOW_PRESENCE and CONDUIT_PRESENCE_TIMEOUT .* unknown to continuwuity, which ignores them/,
    );
    expect(text).toMatch(/well-known: .*also answers the MSC4143 rtc\/transports endpoint/);
    expect(text).toMatch(/registration: ALLOW_REGISTRATION=true becomes REGISTRATION=token/);
    expect(text).toContain('Kept existing secrets: TURN_SECRET, LIVEKIT_KEY, LIVEKIT_SECRET');
    // The steps to stop the old app name its real folders.
    expect(text).toContain(`cd ${OLD.USER_CONFIG_DIR!} && docker-compose down`);
    expect(text).toContain(`sudo cp -a ${OLD.APP_DATA_DIR!}/data/. ${to}/data/continuwuity/`);
    expect(text).toMatch(/sudo chown -R \d+:\d+ /);
    expect(text).toMatch(/priority-100 \/\.well-known\/matrix router/);
    // Words for operators.
    expect(text).not.toMatch(/\bseed\b/i);
  });

  it('should let a flag override what was carried over, and then keep it on re-runs', async () => {
    const { from, to } = folders();
    const run = await cli(['migrate', '--from', from, to, '--registration', 'open']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Changed REGISTRATION: token -> open (--registration)');
    expect((await cli(['init', to])).out).toContain(
      'Unchanged: .env, compose.yaml, livekit.yaml, turnserver.conf, continuwuity.toml, secrets/turn_secret',
    );
    expect(parseEnvFile(read(to, '.env')).REGISTRATION).toBe('open');
  });

  it('should use the LiveKit keys of livekit.yaml and the TURN secret of coturn.conf when app.env lacks them', async () => {
    const { from, to } = folders();
    writeFileSync(
      join(from, 'app.env'),
      read(from, 'app.env').replace(/^(TURN_SECRET|LIVEKIT_API_KEY|LIVEKIT_API_SECRET)=.*$/gm, ''),
    );
    expect((await cli(['migrate', '--from', from, to])).code).toBe(0);
    expect(parseEnvFile(read(to, '.env'))).toMatchObject({
      TURN_SECRET: OLD.TURN_SECRET,
      LIVEKIT_KEY: OLD.LIVEKIT_API_KEY,
      LIVEKIT_SECRET: OLD.LIVEKIT_API_SECRET,
    });
  });

  it('should refuse a folder without app.env, and a target that already holds a deployment', async () => {
    const { from, to } = folders();
    const empty = tempDir();
    dirs.push(empty);
    const none = await cli(['migrate', '--from', empty, to]);
    expect(none.code).toBe(2);
    expect(none.err[0]).toMatch(/has no app\.env/);
    expect(existsSync(to)).toBe(false);
    expect((await cli(['migrate', '--from', from, to])).code).toBe(0);
    const again = await cli(['migrate', '--from', from, to]);
    expect(again.code).toBe(2);
    expect(again.err[0]).toMatch(/already holds a deployment/);
    expect((await cli(['migrate', to])).err[0]).toMatch(/--from OLD_DIR is required/);
  });
});

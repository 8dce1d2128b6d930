import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DENIED_PEER_IP_RANGES } from '@rtc-sidecars/turn';
import { APP_CATEGORIES, appInfoSchema, dynamicComposeSchemaYaml } from '@runtipi/common/schemas';
import { repoRoot } from '@rtc-sidecars/test-harness';
import { type } from 'arktype';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { checkDeployment } from '../src/check/check-deployment.ts';
import { interpolate } from '../src/check/interpolate.ts';
import { type Parsed, PUBLIC_IP, removeDir, tempDir } from './cli-harness.ts';
import {
  LIVEKIT_JWT_PATHS,
  publicPathsOf,
  WELL_KNOWN_PATHS,
  WELL_KNOWN_PUBLIC,
} from './traefik-model.ts';
import { composeSchemaValidator, dockerComposeConfig, readCompose } from './compose-validation.ts';

const APP = join(repoRoot, 'docker/runtipi/continuwuity-rtc');
/** The parts of config.json the store rules look at. */
interface AppConfig {
  readonly id: string;
  readonly version: string;
  readonly categories: readonly string[];
  readonly created_at: number;
  readonly updated_at: number;
  readonly form_fields: readonly {
    readonly type: string;
    readonly env_variable: string;
    readonly required?: boolean;
    readonly min?: number;
    readonly options?: readonly { label: string; value: string }[];
  }[];
}
const config = JSON.parse(readFileSync(join(APP, 'config.json'), 'utf8')) as AppConfig;
const composeText = readFileSync(join(APP, 'docker-compose.yml'), 'utf8');
const compose = readCompose(join(APP, 'docker-compose.yml'));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** The app.env Runtipi would write for this app: injected variables plus the form's values. */
const APP_ENV: Record<string, string> = {
  APP_ID: 'continuwuity-rtc-migrated',
  APP_DOMAIN: 'hi.example.org',
  APP_DATA_DIR: '/runtipi/app-data/migrated/continuwuity-rtc',
  RTC_SIDECARS_SERVER_NAME: 'hi.example.org',
  RTC_SIDECARS_EXTERNAL_IP: PUBLIC_IP,
  RTC_SIDECARS_ALLOW_REGISTRATION: 'true',
  RTC_SIDECARS_FORBIDDEN_SERVERS: '[".*"]',
  RTC_SIDECARS_OUTGOING_PRESENCE: 'false',
  RTC_SIDECARS_TURN_SECRET: 'a'.repeat(64),
  RTC_SIDECARS_LIVEKIT_KEY: 'b'.repeat(32),
  RTC_SIDECARS_LIVEKIT_SECRET: 'c'.repeat(64),
  RTC_SIDECARS_REGISTRATION_TOKEN: 'd'.repeat(32),
};

describe('Runtipi app continuwuity-rtc', () => {
  it("should be valid against Runtipi's app-info schema (@runtipi/common)", () => {
    // Runtipi adds the URN (<id>:<store>) when it loads an app from a store.
    const result = appInfoSchema({ ...config, urn: `${config.id}:migrated` });
    expect(result instanceof type.errors ? result.summary : 'valid').toBe('valid');
  });

  it('should be refused by the same schema with the seed\'s "communication" category', () => {
    const result = appInfoSchema({ ...config, urn: 'x:y', categories: ['communication'] });
    expect(result instanceof type.errors ? result.summary : 'valid').toMatch(
      /categories\[0\] must be/,
    );
    expect(config.categories.every((c) => (APP_CATEGORIES as readonly string[]).includes(c))).toBe(
      true,
    );
  });

  it("should be valid against Runtipi's dynamic compose schema and the compose-spec schema", () => {
    const result = dynamicComposeSchemaYaml(compose);
    expect(result instanceof type.errors ? result.summary : 'valid').toBe('valid');
    expect(compose['x-runtipi'].schema_version).toBe(2);
    expect(composeSchemaValidator()(compose)).toEqual([]);
  });

  it('should be accepted by docker-compose config -q with a Runtipi app.env', () => {
    expect(dockerComposeConfig(join(APP, 'docker-compose.yml'), APP_ENV)).toMatchObject({
      status: 0,
      stderr: '',
    });
  });

  it("should follow the app store's rules", () => {
    const main = compose.services[config.id];
    expect(main, 'a service named like the app id').toBeDefined();
    expect(main.image).toContain(config.version);
    expect(main['x-runtipi']).toEqual({ is_main: true, internal_port: 8008 });
    for (const field of config.form_fields) {
      if (field.type === 'random') {
        expect(field.required ?? false, field.env_variable).toBe(false);
        expect(field.min, field.env_variable).toBeGreaterThanOrEqual(32);
        expect(field.env_variable).toMatch(/^RTC_SIDECARS_/);
      }
    }
    expect(config.created_at).toBeGreaterThanOrEqual(Date.UTC(2023, 0, 1));
    expect(config.updated_at).toBeGreaterThanOrEqual(config.created_at);
    expect(config).toMatchObject({
      dynamic_config: true,
      force_expose: true,
      exposable: true,
      no_gui: true,
    });
    expect(existsSync(join(APP, 'metadata/description.md'))).toBe(true);
    // The store requires a JPEG logo; check the magic bytes, not just the name.
    const logo = readFileSync(join(APP, 'metadata/logo.jpg'));
    expect([...logo.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    for (const name of ['well-known', 'livekit-jwt', 'livekit']) {
      expect(compose.services[name]['x-runtipi'], name).toEqual({ add_to_main_network: true });
    }
  });

  it('should ask for the server name, registration, federation and external IP', () => {
    const fields = Object.fromEntries(config.form_fields.map((f) => [f.env_variable, f]));
    expect(fields.RTC_SIDECARS_SERVER_NAME).toMatchObject({ type: 'fqdn', required: true });
    expect(fields.RTC_SIDECARS_EXTERNAL_IP).toMatchObject({ type: 'ip', required: true });
    expect(fields.RTC_SIDECARS_ALLOW_REGISTRATION).toMatchObject({ type: 'boolean' });
    expect(fields.RTC_SIDECARS_FORBIDDEN_SERVERS?.options).toEqual([
      { label: 'On', value: '[]' },
      { label: 'Off (calls keep working)', value: '[".*"]' },
    ]);
    // Every variable the compose file reads is either a form field or injected by Runtipi.
    const used = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
    for (const name of used) expect(name! in fields || name === 'APP_DATA_DIR', name).toBe(true);
  });

  it('should make public only the routes clients use, never /metrics or /sfu_webhook', () => {
    // Runtipi fills in {{RUNTIPI_APP_ID}} and the app.env; its own main router (is_main) sends
    // the rest of the host to the homeserver.
    const filled: Parsed = YAML.parse(
      interpolate(composeText.replaceAll('{{RUNTIPI_APP_ID}}', APP_ENV.APP_ID!), APP_ENV),
    );
    const host = APP_ENV.RTC_SIDECARS_SERVER_NAME!;
    expect(publicPathsOf(filled, host, 'livekit-jwt', LIVEKIT_JWT_PATHS)).toEqual([
      '/delegate_delayed_leave',
      '/get_token',
      '/healthz',
      '/sfu/get',
    ]);
    expect(publicPathsOf(filled, host, 'well-known', WELL_KNOWN_PATHS)).toEqual(WELL_KNOWN_PUBLIC);
  });

  it('should run coturn with the full denied-peer-ip list of @rtc-sidecars/turn', () => {
    const command = compose.services.coturn.command as string[];
    expect(command.filter((a) => a.startsWith('--denied-peer-ip='))).toEqual(
      DENIED_PEER_IP_RANGES.map((d) => `--denied-peer-ip=${d.range}`),
    );
  });

  it('should pass every rtc-sidecars check rule once Runtipi has filled in its variables', () => {
    // Lay the app out as a deployment folder: LIVEKIT_CONFIG is livekit.yaml, coturn's flags
    // are turnserver.conf. The homeserver settings are read from its CONTINUWUITY_* variables.
    const dir = tempDir('rtc-runtipi-');
    dirs.push(dir);
    const env = Object.entries(APP_ENV).map(([k, v]) => `${k}=${v}`);
    writeFileSync(join(dir, '.env'), `${env.join('\n')}\n`);
    writeFileSync(join(dir, 'compose.yaml'), composeText);
    writeFileSync(
      join(dir, 'livekit.yaml'),
      interpolate(compose.services.livekit.environment.LIVEKIT_CONFIG as string, APP_ENV),
    );
    const flags = (compose.services.coturn.command as string[]).filter((a) => a.startsWith('--'));
    writeFileSync(
      join(dir, 'turnserver.conf'),
      interpolate(flags.map((f) => f.slice(2)).join('\n'), APP_ENV),
    );
    expect(checkDeployment(dir)).toEqual([]);
    const livekit = YAML.parse(readFileSync(join(dir, 'livekit.yaml'), 'utf8'));
    expect(livekit.keys).toEqual({
      [APP_ENV.RTC_SIDECARS_LIVEKIT_KEY!]: APP_ENV.RTC_SIDECARS_LIVEKIT_SECRET,
    });
    expect(livekit.rtc.node_ip).toBe(PUBLIC_IP);
    // Delayed leave: LiveKit's events reach livekit-jwt on the app's own network.
    expect(livekit.webhook).toEqual({
      api_key: APP_ENV.RTC_SIDECARS_LIVEKIT_KEY,
      urls: ['http://livekit-jwt:8080/sfu_webhook'],
    });
    expect(compose.services['livekit-jwt'].environment.LIVEKIT_JWT_BIND).toBe('0.0.0.0:8080');
  });
});

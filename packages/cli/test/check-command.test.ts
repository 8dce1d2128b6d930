import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkDeployment, type Finding } from '../src/check/check-deployment.ts';
import {
  cli,
  copyDeployment,
  editFile,
  initDeployment,
  PUBLIC_IP,
  removeDir,
  tempDir,
} from './cli-harness.ts';

let generated: string;
const copies: string[] = [];

beforeAll(async () => {
  generated = tempDir();
  const run = await initDeployment(generated, '--federation', 'off');
  expect(run.code).toBe(0);
});
afterAll(() => {
  removeDir(generated);
  for (const dir of copies) removeDir(dir);
});

/** A copy of the generated deployment with `edits` applied, and what check finds in it. */
function broken(edits: Record<string, (text: string) => string>): Finding[] {
  const dir = copyDeployment(generated);
  copies.push(dir);
  for (const [file, edit] of Object.entries(edits)) editFile(dir, file, edit);
  return checkDeployment(dir);
}

const where = (f: Finding): string => `${f.file} ${f.key} [${f.rule}]`;
const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

describe('rtc-sidecars check', () => {
  it('should pass a freshly generated deployment with exit code 0', async () => {
    const run = await cli(['check', generated]);
    expect(run.out).toEqual([`${generated}: consistent`]);
    expect(run.code).toBe(0);
  });

  it('should print file, key and rule of every finding and exit 1', async () => {
    const dir = copyDeployment(generated);
    copies.push(dir);
    editFile(dir, 'secrets/turn_secret', () => '0123456789abcdef0123');
    const run = await cli(['check'], dir);
    expect(run.code).toBe(1);
    expect(run.out).toEqual([
      'secrets/turn_secret: -: differs from turnserver.conf static-auth-secret: coturn will reject every credential [secret-mismatch]',
    ]);
    expect(run.err).toEqual([`1 problem in ${dir}`]);
    expect(run.out.join('\n')).not.toContain('0123456789abcdef0123');
  });

  it('should refuse a folder that does not exist with exit code 2', async () => {
    const run = await cli(['check', join(generated, 'nope')]);
    expect(run.code).toBe(2);
    expect(run.err).toEqual([expect.stringMatching(/nope is not a folder$/)]);
  });

  describe('secret-mismatch', () => {
    it('should find coturn and the homeserver (env overlay) holding different TURN secrets', () => {
      // The overlay names another secret file, which wins over the TOML's; it is not mounted.
      const findings = broken({
        'compose.yaml': (t) =>
          t.replace(
            'CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml',
            'CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml\n      CONTINUWUITY_TURN_SECRET_FILE: /run/other/turn_secret\n      CONTINUWUITY_TURN_SECRET: not-the-coturn-secret-at-all',
          ),
      });
      expect(findings.map(where)).toEqual([
        'compose.yaml services.continuwuity.environment.CONTINUWUITY_TURN_SECRET_FILE [secret-mismatch]',
        'compose.yaml services.continuwuity.environment.CONTINUWUITY_TURN_SECRET [secret-mismatch]',
      ]);
    });

    it('should find a turnserver.conf secret that differs from .env and the homeserver', () => {
      const findings = broken({
        'turnserver.conf': (t) =>
          t.replace(/^static-auth-secret=.*$/m, 'static-auth-secret=ffffffffffffffffffffffff'),
      });
      expect(findings.map(where)).toEqual([
        'secrets/turn_secret - [secret-mismatch]',
        'turnserver.conf static-auth-secret [secret-mismatch]',
        'livekit.yaml rtc.turn_servers[0].secret [secret-mismatch]',
        'livekit.yaml rtc.turn_servers[1].secret [secret-mismatch]',
      ]);
    });

    it('should find livekit-jwt signing with a secret LiveKit does not have', () => {
      const findings = broken({
        'livekit.yaml': (t) =>
          t.replace(/^( {2}API[0-9a-f]+: ).*$/m, '$1"another-secret-of-enough-length-0123456789"'),
      });
      expect(findings).toHaveLength(1);
      expect(where(findings[0]!)).toBe(
        'compose.yaml services.livekit-jwt.environment.LIVEKIT_SECRET [secret-mismatch]',
      );
      expect(findings[0]!.message).toMatch(/differs from livekit.yaml keys\.API/);
    });

    it('should find a LiveKit key that is not in livekit.yaml', () => {
      const findings = broken({
        'compose.yaml': (t) =>
          t.replace('LIVEKIT_KEY: ${LIVEKIT_KEY}', 'LIVEKIT_KEY: APIsomethingelse'),
      });
      expect(findings.map(where)).toEqual([
        'compose.yaml services.livekit-jwt.environment.LIVEKIT_KEY [secret-mismatch]',
        'compose.yaml services.livekit-jwt.environment.LIVEKIT_KEY [secret-mismatch]',
      ]);
      expect(findings.map((f) => f.message)).toEqual([
        'is not one of the keys in livekit.yaml: LiveKit will reject every token',
        'differs from LIVEKIT_KEY in .env',
      ]);
    });
  });

  it('should find a LiveKit secret under 32 characters (livekit-secret-length)', () => {
    const findings = broken({
      '.env': (t) => t.replace(/^LIVEKIT_SECRET=.*$/m, 'LIVEKIT_SECRET=tooshort'),
      'livekit.yaml': (t) => t.replace(/^( {2}API[0-9a-f]+: ).*$/m, '$1tooshort'),
    });
    expect(findings.map(where)).toEqual([
      expect.stringMatching(/^livekit.yaml keys\.API[0-9a-f]+ \[livekit-secret-length\]$/),
      'compose.yaml services.livekit-jwt.environment.LIVEKIT_SECRET [livekit-secret-length]',
    ]);
  });

  describe('turn-uris-not-array', () => {
    it('should find a comma-separated string in continuwuity.toml', () => {
      const findings = broken({
        'continuwuity.toml': (t) =>
          t.replace(
            /^turn_uris = .*$/m,
            'turn_uris = "turn:hi.example.org?transport=udp,turn:hi.example.org?transport=tcp"',
          ),
      });
      expect(findings.map(where)).toEqual([
        'continuwuity.toml global.turn_uris [turn-uris-not-array]',
      ]);
    });

    it("should find the seed's backslash-escaped array in the environment", () => {
      const findings = broken({
        'compose.yaml': (t) =>
          t.replace(
            'CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml',
            `CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml\n      CONDUIT_TURN_URIS: '[\\"turn:hi.example.org:3478?transport=udp\\"]'`,
          ),
      });
      expect(findings.map(where)).toEqual([
        'compose.yaml services.continuwuity.environment.CONDUIT_TURN_URIS [turn-uris-not-array]',
      ]);
    });

    it('should find an entry that is not a TURN URI', () => {
      const findings = broken({
        'continuwuity.toml': (t) =>
          t.replace(/^turn_uris = .*$/m, 'turn_uris = ["turn://hi.example.org:3478"]'),
      });
      expect(findings.map(where)).toEqual([
        'continuwuity.toml global.turn_uris [turn-uris-not-array]',
      ]);
      expect(findings[0]!.message).toMatch(/without "\/\/"/);
    });
  });

  it('should find federation disabled outright, in the TOML or the environment (federation-disabled)', () => {
    const toml = broken({
      'continuwuity.toml': (t) =>
        t.replace(/^allow_federation = true$/m, 'allow_federation = false'),
    });
    expect(toml.map(where)).toEqual([
      'continuwuity.toml global.allow_federation [federation-disabled]',
    ]);
    const env = broken({
      'compose.yaml': (t) =>
        t.replace(
          'CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml',
          "CONTINUWUITY_CONFIG: /etc/continuwuity/continuwuity.toml\n      CONDUIT_ALLOW_FEDERATION: 'false'",
        ),
    });
    expect(env.map(where)).toEqual([
      'compose.yaml services.continuwuity.environment.CONDUIT_ALLOW_FEDERATION [federation-disabled]',
    ]);
  });

  describe('foci-mismatch', () => {
    it('should find homeserver foci that disagree with the well-known service', () => {
      const findings = broken({
        'continuwuity.toml': (t) =>
          t.replace('https://hi.example.org/livekit-jwt', 'https://rtc.example.org/livekit/jwt'),
      });
      expect(findings.map(where)).toEqual([
        'compose.yaml services.well-known.environment.WELL_KNOWN_LIVEKIT_SERVICE_URLS [foci-mismatch]',
      ]);
      expect(findings[0]!.message).toContain('https://rtc.example.org/livekit/jwt');
    });

    it('should find homeserver foci that are missing', () => {
      const findings = broken({
        'continuwuity.toml': (t) => t.replace(/^foci = .*$/m, ''),
      });
      expect(findings.map(where)).toEqual([
        'continuwuity.toml global.matrix_rtc.foci [foci-mismatch]',
      ]);
    });
  });

  describe('port-collision', () => {
    it('should find coturn listening on the port LiveKit publishes', () => {
      const findings = broken({
        'turnserver.conf': (t) => t.replace('listening-port=3478', 'listening-port=7881'),
      });
      expect(findings.map(where)).toContain('turnserver.conf listening-port [port-collision]');
      // LiveKit still hands out coturn on 3478, which it no longer listens on.
      expect(new Set(findings.map((f) => f.rule))).toEqual(
        new Set(['port-collision', 'livekit-turn']),
      );
    });

    it("should find coturn's relay range overlapping LiveKit's media range", () => {
      const findings = broken({
        'turnserver.conf': (t) => t.replace('max-port=49200', 'max-port=50150'),
      });
      expect(findings.map(where)).toContain('turnserver.conf min-port/max-port [port-collision]');
    });

    it('should find a LiveKit media port that compose does not publish', () => {
      const findings = broken({
        '.env': (t) => t.replace('LIVEKIT_RTC_TCP_PORT=7881', 'LIVEKIT_RTC_TCP_PORT=7891'),
      });
      expect(findings.map(where)).toEqual(['livekit.yaml rtc.tcp_port [port-not-published]']);
    });
  });

  it('should find presence switched off (presence-disabled)', () => {
    const findings = broken({
      'continuwuity.toml': (t) =>
        t
          .replace('allow_local_presence = true', 'allow_local_presence = false')
          .replace('allow_incoming_presence = true', 'allow_incoming_presence = false'),
    });
    expect(findings.map((f) => `${where(f)} ${f.message}`)).toEqual([
      "continuwuity.toml global.allow_local_presence [presence-disabled] presence is switched off: this server's users cannot set a status or see who is online; set allow_local_presence = true",
      "continuwuity.toml global.allow_incoming_presence [presence-disabled] presence is switched off: remote users' presence is dropped; set allow_incoming_presence = true",
    ]);
  });

  describe('unreadable-file', () => {
    it('should name the line of a TOML syntax error and report nothing that follows from it', async () => {
      const dir = copyDeployment(generated);
      copies.push(dir);
      editFile(dir, 'continuwuity.toml', (t) =>
        t.replace(/^turn_ttl = 86400$/m, 'turn_ttl = = 86400'),
      );
      const line = read(dir, 'continuwuity.toml').split('\n').indexOf('turn_ttl = = 86400') + 1;
      const run = await cli(['check', dir]);
      expect(run.out).toEqual([
        `continuwuity.toml: line ${line}, column 12: cannot parse: Invalid TOML document: invalid value [unreadable-file]`,
      ]);
      expect(run.out.join('\n')).not.toMatch(/[0-9a-f]{64}/);
    });

    it('should name the line of a YAML syntax error', () => {
      const findings = broken({ 'livekit.yaml': (t) => t.replace('rtc:', 'rtc: [') });
      expect(findings.map(where)).toEqual([
        expect.stringMatching(/^livekit\.yaml line \d+, column \d+ \[unreadable-file\]$/),
      ]);
    });
  });

  describe('node-ip', () => {
    it('should find use_external_ip and node_ip both set', () => {
      const findings = broken({
        'livekit.yaml': (t) => t.replace('use_external_ip: false', 'use_external_ip: true'),
      });
      expect(findings.map(where)).toEqual(['livekit.yaml rtc.use_external_ip [node-ip]']);
    });

    it('should find use_external_ip with --node-ip on the command line', () => {
      const findings = broken({
        'livekit.yaml': (t) =>
          t
            .replace('use_external_ip: false', 'use_external_ip: true')
            .replace(/^ {2}node_ip: .*$/m, ''),
        'compose.yaml': (t) =>
          t.replace(
            "command: ['--config', '/etc/livekit.yaml']",
            "command: ['--config', '/etc/livekit.yaml', '--node-ip', '${EXTERNAL_IP}']",
          ),
      });
      expect(findings.map(where)).toEqual(['livekit.yaml rtc.use_external_ip [node-ip]']);
      expect(findings[0]!.message).toContain('--node-ip');
    });

    it('should find neither set', () => {
      const findings = broken({ 'livekit.yaml': (t) => t.replace(/^ {2}node_ip: .*$/m, '') });
      expect(findings.map(where)).toEqual(['livekit.yaml rtc.node_ip [node-ip]']);
    });
  });

  it('should find LiveKit or coturn advertising another address than .env (external-ip-mismatch)', () => {
    const findings = broken({
      'livekit.yaml': (t) => t.replace(`node_ip: ${PUBLIC_IP}`, 'node_ip: 45.67.89.11'),
      'turnserver.conf': (t) => t.replace(`external-ip=${PUBLIC_IP}`, 'external-ip=45.67.89.12'),
    });
    expect(findings.map((f) => `${where(f)} ${f.message}`)).toEqual([
      `livekit.yaml rtc.node_ip [external-ip-mismatch] is 45.67.89.11, but EXTERNAL_IP in .env is ${PUBLIC_IP}`,
      `turnserver.conf external-ip [external-ip-mismatch] is 45.67.89.12, but EXTERNAL_IP in .env is ${PUBLIC_IP}`,
    ]);
  });

  it('should find missing denied-peer-ip ranges (denied-peer-ip)', () => {
    const findings = broken({
      'turnserver.conf': (t) =>
        t
          .replace(/^denied-peer-ip=172\.16\.0\.0-172\.31\.255\.255$/m, '')
          .replace(
            /^denied-peer-ip=::ffff:0\.0\.0\.0-::ffff:255\.255\.255\.255$/m,
            'denied-peer-ip=::ffff:0.0.0.0-::ffff:0.0.0.255',
          ),
    });
    expect(findings.map((f) => `${where(f)} ${f.message}`)).toEqual([
      'turnserver.conf denied-peer-ip [denied-peer-ip] missing 172.16.0.0-172.31.255.255 (RFC 1918 private (Docker networks))',
      expect.stringMatching(
        /^turnserver.conf denied-peer-ip \[denied-peer-ip\] missing ::ffff:0\.0\.0\.0-::ffff:255\.255\.255\.255 /,
      ),
    ]);
  });

  it('should report a missing file and still check the rest (missing-file)', () => {
    const dir = copyDeployment(generated);
    copies.push(dir);
    rmSync(join(dir, 'livekit.yaml'));
    editFile(dir, 'continuwuity.toml', (t) =>
      t.replace(/^allow_federation = true$/m, 'allow_federation = false'),
    );
    expect(checkDeployment(dir).map(where)).toEqual([
      'livekit.yaml - [missing-file]',
      'continuwuity.toml global.allow_federation [federation-disabled]',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkDeployment, type Finding } from '../src/check/check-deployment.ts';
import { copyDeployment, editFile, initDeployment, removeDir, tempDir } from './cli-harness.ts';

// The TURN servers LiveKit hands Element Call (rtc.turn_servers) against the coturn they name.

let generated: string;
const copies: string[] = [];

beforeAll(async () => {
  generated = tempDir();
  expect((await initDeployment(generated)).code).toBe(0);
});
afterAll(() => {
  removeDir(generated);
  for (const dir of copies) removeDir(dir);
});

function broken(edits: Record<string, (text: string) => string>): Finding[] {
  const dir = copyDeployment(generated);
  copies.push(dir);
  for (const [file, edit] of Object.entries(edits)) editFile(dir, file, edit);
  return checkDeployment(dir);
}

const where = (f: Finding): string => `${f.file} ${f.key} [${f.rule}]`;

/** Replaces the first `rtc.turn_servers` entry's `field` line. */
const firstEntry =
  (field: string, value: string) =>
  (t: string): string =>
    t.replace(new RegExp(`^( +(?:- )?)${field}: .*$`, 'm'), `$1${field}: ${value}`);

describe('rtc-sidecars check: LiveKit TURN servers', () => {
  it('should pass the generated UDP and TCP entries for coturn', () => {
    expect(checkDeployment(generated)).toEqual([]);
  });

  it('should find a LiveKit TURN secret that differs from coturn (secret-mismatch)', () => {
    const findings = broken({ 'livekit.yaml': firstEntry('secret', "'not-coturns-secret-0123'") });
    expect(findings.map(where)).toEqual([
      'livekit.yaml rtc.turn_servers[0].secret [secret-mismatch]',
    ]);
    expect(findings[0]?.message).toMatch(/coturn refuses every credential LiveKit hands out/);
    expect(findings[0]?.message).not.toContain('not-coturns-secret-0123');
  });

  it('should find a missing turn_servers section (livekit-turn-missing)', () => {
    const findings = broken({
      'livekit.yaml': (t) => t.replace(/^ {2}turn_servers:\n(^ {4}.*\n)+/m, ''),
    });
    expect(findings.map(where)).toEqual(['livekit.yaml rtc.turn_servers [livekit-turn-missing]']);
    expect(findings[0]?.message).toMatch(/join response/);
  });

  it("should find a TURN host that is not coturn's realm or address (livekit-turn)", () => {
    const findings = broken({ 'livekit.yaml': firstEntry('host', 'turn.elsewhere.org') });
    expect(findings.map(where)).toEqual(['livekit.yaml rtc.turn_servers[0].host [livekit-turn]']);
    expect(findings[0]?.message).toMatch(/turn\.elsewhere\.org.*hi\.example\.org/);
  });

  it("should accept coturn's external address as the host", () => {
    expect(broken({ 'livekit.yaml': firstEntry('host', '45.67.89.10') })).toEqual([]);
  });

  it('should find a port coturn does not listen on (livekit-turn)', () => {
    const findings = broken({ 'livekit.yaml': firstEntry('port', '3479') });
    expect(findings.map(where)).toEqual(['livekit.yaml rtc.turn_servers[0].port [livekit-turn]']);
    expect(findings[0]?.message).toBe('is 3479, but coturn serves udp on 3478');
  });

  it('should find a tls entry while coturn has no certificate (livekit-turn)', () => {
    const findings = broken({
      'livekit.yaml': (t) => firstEntry('port', '5349')(firstEntry('protocol', 'tls')(t)),
    });
    expect(findings.map(where)).toEqual([
      'livekit.yaml rtc.turn_servers[0].protocol [livekit-turn]',
    ]);
    expect(findings[0]?.message).toMatch(/cannot complete a handshake/);
  });

  it('should accept a tls entry once coturn has a certificate on its TLS port', () => {
    const findings = broken({
      'livekit.yaml': (t) => firstEntry('port', '5349')(firstEntry('protocol', 'tls')(t)),
      'turnserver.conf': (t) =>
        t.replace(
          /^no-tls\nno-dtls$/m,
          'cert=/etc/coturn/tls/fullchain.pem\npkey=/etc/coturn/tls/privkey.pem\ntls-listening-port=5349',
        ),
    });
    expect(findings).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { DENIED_PEER_IP_RANGES } from './denied-peer-ips.ts';
import {
  renderTurnserverConf,
  TurnserverConfError,
  type TurnserverSettings,
} from './render-turnserver-conf.ts';

const CURRENT = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const PREVIOUS = 'deadbeefdeadbeefdeadbeefdeadbeef';

const production: TurnserverSettings = {
  realm: 'turn.example.org',
  secrets: [CURRENT, PREVIOUS],
  externalIp: '203.0.113.7',
  tls: { certFile: '/etc/coturn/tls/fullchain.pem', keyFile: '/etc/coturn/tls/privkey.pem' },
  relayPorts: { min: 49160, max: 49200 },
};

function problemsOf(settings: TurnserverSettings): readonly string[] {
  try {
    renderTurnserverConf(settings);
  } catch (err) {
    expect(err).toBeInstanceOf(TurnserverConfError);
    return (err as TurnserverConfError).problems;
  }
  throw new Error('expected a TurnserverConfError');
}

describe('renderTurnserverConf', () => {
  it('should render the hardened production config', () => {
    const conf = renderTurnserverConf(production);
    const lines = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual([
      'listening-port=3478',
      'tls-listening-port=5349',
      'external-ip=203.0.113.7',
      'min-port=49160',
      'max-port=49200',
      'no-rfc5780',
      'cert=/etc/coturn/tls/fullchain.pem',
      'pkey=/etc/coturn/tls/privkey.pem',
      'no-tlsv1',
      'no-tlsv1_1',
      'fingerprint',
      'use-auth-secret',
      `static-auth-secret=${CURRENT}`,
      `static-auth-secret=${PREVIOUS}`,
      'realm=turn.example.org',
      'stale-nonce=600',
      'user-quota=12',
      'total-quota=1200',
      'no-cli',
      'no-tcp-relay',
      'no-multicast-peers',
      ...DENIED_PEER_IP_RANGES.map((d) => `denied-peer-ip=${d.range}`),
      'log-file=stdout',
      'simple-log',
    ]);
    expect(conf).not.toMatch(/allow-loopback-peers|allowed-peer-ip|no-tls\b|listening-ip/);
  });

  it('should deny every private, loopback, link-local, CGNAT and IPv4-mapped range', () => {
    const conf = renderTurnserverConf(production);
    for (const range of [
      '10.0.0.0-10.255.255.255',
      '172.16.0.0-172.31.255.255',
      '192.168.0.0-192.168.255.255',
      '127.0.0.0-127.255.255.255',
      '169.254.0.0-169.254.255.255',
      '100.64.0.0-100.127.255.255',
      '0.0.0.0-0.255.255.255',
      '::1',
      '::ffff:0.0.0.0-::ffff:255.255.255.255',
      '64:ff9b::-64:ff9b::ffff:ffff',
      'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]) {
      expect(conf).toContain(`\ndenied-peer-ip=${range}\n`);
    }
  });

  it('should switch TLS off without a certificate and honour the optional settings', () => {
    const conf = renderTurnserverConf({
      realm: 'turn.example.org',
      secrets: [CURRENT],
      listeningPort: 3479,
      externalIp: '203.0.113.7/172.18.0.5',
      listeningIps: ['172.18.0.5'],
      relayIps: ['172.18.0.5'],
      serverName: 'turn.example.org',
      userQuota: 4,
      totalQuota: 100,
      maxBps: 1_000_000,
      staleNonceSeconds: 300,
      allowedPeerIps: ['203.0.113.7'],
      logFile: '/var/log/turnserver.log',
      pidFile: '/run/turnserver.pid',
      userDb: '/var/lib/coturn/turndb',
      verbose: true,
    });
    for (const line of [
      'listening-port=3479',
      'external-ip=203.0.113.7/172.18.0.5',
      'listening-ip=172.18.0.5',
      'relay-ip=172.18.0.5',
      'no-tls',
      'no-dtls',
      'server-name=turn.example.org',
      'user-quota=4',
      'total-quota=100',
      'max-bps=1000000',
      'stale-nonce=300',
      'allowed-peer-ip=203.0.113.7',
      'log-file=/var/log/turnserver.log',
      'pidfile=/run/turnserver.pid',
      'userdb=/var/lib/coturn/turndb',
      'verbose',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).not.toContain('tls-listening-port');
  });

  it('should add loopback listening, private files and loopback peers only in test mode', () => {
    const conf = renderTurnserverConf({
      ...production,
      tls: undefined,
      testOnly: { workDir: '/srv/t', allowLoopbackPeers: true },
    });
    const lines = conf.split('\n');
    for (const line of [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      'pidfile=/srv/t/turnserver.pid',
      'userdb=/srv/t/turndb',
      'log-file=/srv/t/turnserver.log',
      'no-tls',
      'no-cli',
      'allow-loopback-peers',
      'allowed-peer-ip=127.0.0.1',
      'denied-peer-ip=127.0.0.0-127.255.255.255',
    ]) {
      expect(lines).toContain(line);
    }
    const strict = renderTurnserverConf({
      ...production,
      testOnly: { workDir: '/srv/t', allowLoopbackPeers: false },
    });
    expect(strict).toContain('\nlistening-ip=127.0.0.1\n');
    expect(strict).not.toMatch(/allow-loopback-peers|allowed-peer-ip/);
  });

  it('should list every invalid setting at once', () => {
    expect(
      problemsOf({
        realm: 'turn example.org',
        secrets: ['short', `${CURRENT}\nallow-loopback-peers`, 'has#hash-has#hash-has#hash'],
        listeningPort: 0,
        relayPorts: { min: 50000, max: 49000 },
        externalIp: 'my.host',
        userQuota: -1,
        listeningIps: ['localhost'],
        logFile: 'relative.log',
      }),
    ).toEqual([
      'realm must be a domain name, got "turn example.org"',
      'secret 1 must be at least 16 printable characters without spaces or "#"',
      'secret 2 must be at least 16 printable characters without spaces or "#"',
      'secret 3 must be at least 16 printable characters without spaces or "#"',
      'listeningPort must be a port number 1-65535, got 0',
      'relayPorts.min 50000 is above relayPorts.max 49000',
      'userQuota must be a whole number >= 0, got -1',
      'externalIp must be an IP or "public/private", got "my.host"',
      'listeningIps: "localhost" is not an IP',
      'logFile must be an absolute path without spaces, got "relative.log"',
    ]);
  });

  it('should refuse no secrets, repeated secrets and clashing TLS ports', () => {
    expect(problemsOf({ realm: 'a.b', secrets: [] })).toEqual(['at least one secret is required']);
    expect(problemsOf({ realm: 'a.b', secrets: [CURRENT, CURRENT] })).toEqual([
      'the secrets repeat',
    ]);
    expect(problemsOf({ ...production, tlsListeningPort: 3478 })).toEqual([
      'listeningPort and tlsListeningPort must differ',
    ]);
  });

  it('should never print a secret in its error', () => {
    expect(() => renderTurnserverConf({ realm: 'a.b', secrets: ['tiny-secret'] })).toThrow(
      /^(?![\s\S]*tiny-secret)/,
    );
  });
});

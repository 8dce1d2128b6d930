import { ConfigError, type Env } from '@rtc-sidecars/config';
import { describe, expect, it } from 'vitest';
import { loadWellKnownConfig } from './config.ts';

const minimal = { WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org' };

function issues(env: Env): { variable: string; message: string }[] {
  try {
    loadWellKnownConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

function firstIssue(env: Env): { variable: string; message: string } {
  const [issue] = issues({ ...minimal, ...env });
  if (issue === undefined) throw new Error('no issue');
  return issue;
}

describe('loadWellKnownConfig', () => {
  it('should apply defaults with only the base URL set', () => {
    const c = loadWellKnownConfig(minimal);
    expect(c).toMatchObject({
      bind: { host: '0.0.0.0', port: 8080 },
      homeserverBaseUrl: 'https://matrix.example.org',
      homeserverInternalUrl: 'https://matrix.example.org',
      cacheMaxAge: 3600,
      allowInsecureHttp: false,
      whoamiCacheSeconds: 60,
      whoamiTimeoutMs: 5000,
      logLevel: 'info',
    });
    expect(c.server).toBeUndefined();
    expect(c.livekitServiceUrls).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('should parse every variable', () => {
    const c = loadWellKnownConfig({
      WELL_KNOWN_BIND: '127.0.0.1:9000',
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org/',
      WELL_KNOWN_SERVER: 'example.org:443',
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://a.example.org/jwt/, https://b.example.org',
      WELL_KNOWN_IDENTITY_SERVER_BASE_URL: 'https://vector.im',
      WELL_KNOWN_CLIENT_EXTRA: '{"io.element.e2ee":{"default":false}}',
      WELL_KNOWN_SUPPORT_PAGE: 'https://example.org/help',
      WELL_KNOWN_SUPPORT_CONTACTS: '[{"role":"m.role.security","email_address":"sec@example.org"}]',
      WELL_KNOWN_HOMESERVER_INTERNAL_URL: 'http://continuwuity:8008',
      WELL_KNOWN_CACHE_MAX_AGE: '14400',
      WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0',
      WELL_KNOWN_WHOAMI_TIMEOUT_MS: '1500',
      WELL_KNOWN_LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      bind: { host: '127.0.0.1', port: 9000 },
      homeserverBaseUrl: 'https://matrix.example.org',
      server: 'example.org:443',
      livekitServiceUrls: ['https://a.example.org/jwt', 'https://b.example.org'],
      identityServerBaseUrl: 'https://vector.im',
      clientExtra: { 'io.element.e2ee': { default: false } },
      supportPage: 'https://example.org/help',
      supportContacts: [{ role: 'm.role.security', email_address: 'sec@example.org' }],
      homeserverInternalUrl: 'http://continuwuity:8008',
      cacheMaxAge: 14400,
      whoamiCacheSeconds: 0,
      whoamiTimeoutMs: 1500,
      logLevel: 'debug',
    });
  });

  it('should refuse a missing base URL', () => {
    expect(issues({})).toEqual([
      { variable: 'WELL_KNOWN_HOMESERVER_BASE_URL', message: 'is required but not set' },
    ]);
  });

  it('should name every bad variable at once', () => {
    const found = issues({
      WELL_KNOWN_BIND: '8080',
      WELL_KNOWN_SERVER: 'bad_name!',
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'not a url',
      WELL_KNOWN_IDENTITY_SERVER_BASE_URL: 'vector.im',
      WELL_KNOWN_CLIENT_EXTRA: '[]',
      WELL_KNOWN_SUPPORT_PAGE: 'ftp://example.org',
      WELL_KNOWN_SUPPORT_CONTACTS: '{}',
      WELL_KNOWN_HOMESERVER_INTERNAL_URL: '//nohost',
      WELL_KNOWN_CACHE_MAX_AGE: '-5',
      WELL_KNOWN_ALLOW_INSECURE_HTTP: 'perhaps',
      WELL_KNOWN_WHOAMI_CACHE_SECONDS: 'x',
      WELL_KNOWN_WHOAMI_TIMEOUT_MS: '10',
      WELL_KNOWN_LOG_LEVEL: 'loud',
    }).map((i) => i.variable);
    expect(found).toEqual([
      'WELL_KNOWN_BIND',
      'WELL_KNOWN_HOMESERVER_BASE_URL',
      'WELL_KNOWN_SERVER',
      'WELL_KNOWN_LIVEKIT_SERVICE_URLS',
      'WELL_KNOWN_IDENTITY_SERVER_BASE_URL',
      'WELL_KNOWN_CLIENT_EXTRA',
      'WELL_KNOWN_SUPPORT_PAGE',
      'WELL_KNOWN_SUPPORT_CONTACTS',
      'WELL_KNOWN_HOMESERVER_INTERNAL_URL',
      'WELL_KNOWN_CACHE_MAX_AGE',
      'WELL_KNOWN_ALLOW_INSECURE_HTTP',
      'WELL_KNOWN_WHOAMI_CACHE_SECONDS',
      'WELL_KNOWN_WHOAMI_TIMEOUT_MS',
      'WELL_KNOWN_LOG_LEVEL',
    ]);
  });

  describe('plain http', () => {
    it.each([
      'WELL_KNOWN_HOMESERVER_BASE_URL',
      'WELL_KNOWN_IDENTITY_SERVER_BASE_URL',
      'WELL_KNOWN_SUPPORT_PAGE',
      'WELL_KNOWN_LIVEKIT_SERVICE_URLS',
    ])('should refuse http to a public host in %s', (variable) => {
      const issue = firstIssue({ [variable]: 'http://example.org' });
      expect(issue.variable).toBe(variable);
      expect(issue.message).toMatch(/must use https/);
    });

    it('should report each insecure URL', () => {
      const found = issues({
        WELL_KNOWN_HOMESERVER_BASE_URL: 'http://matrix.example.org',
        WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://ok.example.org,http://lk.example.org',
      });
      expect(found.map((i) => i.variable)).toEqual([
        'WELL_KNOWN_HOMESERVER_BASE_URL',
        'WELL_KNOWN_LIVEKIT_SERVICE_URLS',
      ]);
      expect(found[1]?.message).toContain('http://lk.example.org');
    });

    it('should accept http for loopback hosts and when explicitly allowed', () => {
      expect(
        loadWellKnownConfig({ WELL_KNOWN_HOMESERVER_BASE_URL: 'http://127.0.0.1:8008' })
          .homeserverBaseUrl,
      ).toBe('http://127.0.0.1:8008');
      const c = loadWellKnownConfig({
        WELL_KNOWN_HOMESERVER_BASE_URL: 'http://matrix.lan',
        WELL_KNOWN_ALLOW_INSECURE_HTTP: 'true',
      });
      expect(c.allowInsecureHttp).toBe(true);
    });

    it('should accept http for the internal whoami URL, which clients never see', () => {
      const c = loadWellKnownConfig({
        ...minimal,
        WELL_KNOWN_HOMESERVER_INTERNAL_URL: 'http://continuwuity:8008',
      });
      expect(c.homeserverInternalUrl).toBe('http://continuwuity:8008');
    });
  });

  describe('WELL_KNOWN_SERVER', () => {
    it.each(['example.org', 'matrix.example.org:443', '1.2.3.4:8448', '[::1]:8448', 'localhost'])(
      'should accept %s',
      (server) => {
        expect(loadWellKnownConfig({ ...minimal, WELL_KNOWN_SERVER: server }).server).toBe(server);
      },
    );
    it.each([
      ['https://example.org', 'must be host or host:port'],
      ['example.org:0', 'port must be between 1 and 65535'],
      ['example.org:99999', 'port must be between 1 and 65535'],
      ['1.2.3.999', 'invalid IPv4'],
      ['[nope]:80', 'invalid IPv6'],
      ['-bad-.example.org', 'invalid host name'],
      ['exa mple.org', 'invalid host name'],
    ])('should refuse %s', (server, message) => {
      const issue = firstIssue({ WELL_KNOWN_SERVER: server });
      expect(issue.variable).toBe('WELL_KNOWN_SERVER');
      expect(issue.message).toContain(message);
    });
  });

  describe('WELL_KNOWN_LIVEKIT_SERVICE_URLS', () => {
    it.each([
      ['https://a.example.org,,https://b.example.org', 'entry 2 of the list is empty'],
      ['https://a.example.org,b.example.org', 'must be an absolute URL'],
      ['wss://lk.example.org', 'must use https or http'],
    ])('should refuse %s', (value, message) => {
      const issue = firstIssue({ WELL_KNOWN_LIVEKIT_SERVICE_URLS: value });
      expect(issue.variable).toBe('WELL_KNOWN_LIVEKIT_SERVICE_URLS');
      expect(issue.message).toContain(message);
    });
  });

  describe('WELL_KNOWN_CLIENT_EXTRA', () => {
    it.each([
      ['{', 'is not valid JSON'],
      ['"text"', 'must be a JSON object'],
      ['null', 'must be a JSON object'],
      ['{"m.homeserver":{"base_url":"https://x"}}', 'must not set m.homeserver'],
      [
        '{"org.matrix.msc4143.rtc_foci":[],"m.identity_server":{}}',
        'must not set org.matrix.msc4143.rtc_foci, m.identity_server',
      ],
    ])('should refuse %s', (value, message) => {
      const issue = firstIssue({ WELL_KNOWN_CLIENT_EXTRA: value });
      expect(issue.variable).toBe('WELL_KNOWN_CLIENT_EXTRA');
      expect(issue.message).toContain(message);
    });
  });

  describe('WELL_KNOWN_SUPPORT_CONTACTS', () => {
    it.each([
      ['nope', 'is not valid JSON'],
      ['{}', 'must be a non-empty JSON array'],
      ['[]', 'must be a non-empty JSON array'],
      ['["@admin:example.org"]', 'entry 1 must be a JSON object'],
      ['[{"matrix_id":"@a:example.org"}]', 'entry 1 needs a role'],
      ['[{"role":"admin","matrix_id":"@a:example.org"}]', 'entry 1 needs a role'],
      ['[{"role":"m.role.admin"}]', 'entry 1 needs a matrix_id or an email_address'],
      ['[{"role":"m.role.admin","matrix_id":"admin"}]', 'matrix_id that is not a user ID'],
      ['[{"role":"m.role.admin","email_address":"nope"}]', 'invalid email_address'],
      ['[{"role":"m.role.admin","email_address":"a@b.org","phone":"1"}]', 'unknown keys: phone'],
      [
        '[{"role":"m.role.admin","email_address":"a@b.org"},{"role":"m.role.security"}]',
        'entry 2 needs a matrix_id',
      ],
    ])('should refuse %s', (value, message) => {
      const issue = firstIssue({ WELL_KNOWN_SUPPORT_CONTACTS: value });
      expect(issue.variable).toBe('WELL_KNOWN_SUPPORT_CONTACTS');
      expect(issue.message).toContain(message);
    });

    it('should accept a namespaced role', () => {
      const c = loadWellKnownConfig({
        ...minimal,
        WELL_KNOWN_SUPPORT_CONTACTS:
          '[{"role":"org.example.role.moderator","matrix_id":"@m:example.org"}]',
      });
      expect(c.supportContacts?.[0]?.role).toBe('org.example.role.moderator');
    });
  });

  it.each([
    ['WELL_KNOWN_CACHE_MAX_AGE', '31536001'],
    ['WELL_KNOWN_WHOAMI_CACHE_SECONDS', '3601'],
    ['WELL_KNOWN_WHOAMI_TIMEOUT_MS', '60001'],
    ['WELL_KNOWN_BIND', '0.0.0.0:70000'],
  ])('should refuse an out-of-range %s', (variable, value) => {
    expect(firstIssue({ [variable]: value }).variable).toBe(variable);
  });
});

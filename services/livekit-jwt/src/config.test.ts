import { ConfigError } from '@rtc-sidecars/config';
import { describe, expect, it } from 'vitest';
import { apiUrlFromLiveKitUrl } from './config-values.ts';
import { loadServiceConfig } from './config.ts';

const base = {
  LIVEKIT_URL: 'wss://sfu.example.org/livekit/sfu',
  LIVEKIT_KEY: 'key',
  LIVEKIT_SECRET: 'secret-secret-secret-secret-secret-secret',
  LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.org',
};

function files(map: Record<string, string>) {
  return (path: string) => {
    const content = map[path];
    if (content === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return content;
  };
}

function issues(env: Record<string, string>, readFile = files({})): string[] {
  try {
    loadServiceConfig(env, readFile);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.variable}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('loadServiceConfig', () => {
  it('should load a minimal environment with upstream defaults', () => {
    const { config, warnings } = loadServiceConfig(base);
    expect(config).toMatchObject({
      livekitUrl: 'wss://sfu.example.org/livekit/sfu',
      apiUrl: 'https://sfu.example.org/livekit/sfu',
      key: 'key',
      fullAccessHomeservers: ['example.org'],
      listen: { host: undefined, port: 8080 },
      insecureSkipVerifyTls: false,
      logLevel: 'info',
      allowPrivateHomeservers: false,
      allowRemotePublish: false,
      canUpdateOwnMetadata: false,
      rateLimitPerMinute: 300,
      trustProxy: ['loopback', 'linklocal', 'uniquelocal'],
    });
    expect(config.openIdOverrides.size).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('should return LIVEKIT_URL byte for byte', () => {
    const url = 'wss://sfu.example.org:7443/some/prefix/';
    expect(loadServiceConfig({ ...base, LIVEKIT_URL: url }).config.livekitUrl).toBe(url);
  });

  it('should report every missing required variable at once', () => {
    expect(issues({})).toEqual([
      'LIVEKIT_URL: is required but not set',
      'LIVEKIT_FULL_ACCESS_HOMESERVERS: is required but not set',
      'LIVEKIT_KEY: must be set (LIVEKIT_KEY, LIVEKIT_KEY_FROM_FILE or LIVEKIT_KEY_FILE)',
      'LIVEKIT_SECRET: must be set (LIVEKIT_SECRET, LIVEKIT_SECRET_FROM_FILE or LIVEKIT_KEY_FILE)',
    ]);
  });

  it('should refuse a full-access list that names nobody', () => {
    expect(issues({ ...base, LIVEKIT_FULL_ACCESS_HOMESERVERS: ' , ,' })).toEqual([
      'LIVEKIT_FULL_ACCESS_HOMESERVERS: lists no homeserver',
    ]);
  });

  it('should refuse LIVEKIT_JWT_BIND together with LIVEKIT_JWT_PORT', () => {
    expect(issues({ ...base, LIVEKIT_JWT_BIND: ':9090', LIVEKIT_JWT_PORT: '9090' })).toEqual([
      'LIVEKIT_JWT_BIND: LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT must not be set together',
    ]);
  });

  it('should parse the listen address like upstream', () => {
    expect(
      loadServiceConfig({ ...base, LIVEKIT_JWT_BIND: '127.0.0.1:9090' }).config.listen,
    ).toEqual({
      host: '127.0.0.1',
      port: 9090,
    });
    expect(loadServiceConfig({ ...base, LIVEKIT_JWT_BIND: ':9090' }).config.listen).toEqual({
      host: undefined,
      port: 9090,
    });
    expect(loadServiceConfig({ ...base, LIVEKIT_JWT_BIND: '[::1]:9090' }).config.listen).toEqual({
      host: '::1',
      port: 9090,
    });
    const legacy = loadServiceConfig({ ...base, LIVEKIT_JWT_PORT: '9090' });
    expect(legacy.config.listen).toEqual({ host: undefined, port: 9090 });
    expect(legacy.warnings.join()).toMatch(/LIVEKIT_JWT_PORT is deprecated/);
    expect(issues({ ...base, LIVEKIT_JWT_BIND: 'nonsense' })[0]).toMatch(/^LIVEKIT_JWT_BIND: /);
    expect(issues({ ...base, LIVEKIT_JWT_PORT: 'http' })[0]).toMatch(/^LIVEKIT_JWT_PORT: /);
  });

  it('should read LIVEKIT_KEY_FILE first, trimmed, with exactly one colon', () => {
    const readFile = files({
      '/k': 'keysecret_iethuB2LeLiNuishiaKeephei9jaatio: keysecret_xefaingo4oos6ohla9phiMieBu3ohJi2\n',
    });
    const { config } = loadServiceConfig(
      { ...base, LIVEKIT_KEY_FILE: '/k', LIVEKIT_KEY_FROM_FILE: '/missing' },
      readFile,
    );
    expect(config.key).toBe('keysecret_iethuB2LeLiNuishiaKeephei9jaatio');
    expect(config.secret).toBe('keysecret_xefaingo4oos6ohla9phiMieBu3ohJi2');
    for (const content of ['nocolon', 'a: b\nc: d', 'a:b:c']) {
      expect(issues({ ...base, LIVEKIT_KEY_FILE: '/k' }, files({ '/k': content }))).toEqual([
        'LIVEKIT_KEY_FILE: invalid key secret file format! (expected one "key: secret" line)',
      ]);
    }
    expect(issues({ ...base, LIVEKIT_KEY_FILE: '/none' })).toEqual([
      'LIVEKIT_KEY_FILE: cannot read file "/none" (ENOENT)',
    ]);
    expect(issues({ ...base, LIVEKIT_KEY_FILE: '/k' }, files({ '/k': ' : secret' }))[0]).toMatch(
      /^LIVEKIT_KEY: must be set/,
    );
  });

  it('should let *_FROM_FILE win over the plain variable, field by field', () => {
    const readFile = files({ '/key': ' filekey \r\n', '/secret': 'filesecret\n' });
    expect(
      loadServiceConfig({ ...base, LIVEKIT_KEY_FROM_FILE: '/key' }, readFile).config,
    ).toMatchObject({
      key: 'filekey',
      secret: base.LIVEKIT_SECRET,
    });
    expect(
      loadServiceConfig({ ...base, LIVEKIT_SECRET_FROM_FILE: '/secret' }, readFile).config,
    ).toMatchObject({
      key: 'key',
      secret: 'filesecret',
    });
    expect(issues({ ...base, LIVEKIT_SECRET_FROM_FILE: '/nope' })).toEqual([
      'LIVEKIT_SECRET_FROM_FILE: cannot read file "/nope" (ENOENT)',
    ]);
  });

  it('should warn, not refuse, about a secret under 32 characters', () => {
    const { config, warnings } = loadServiceConfig({ ...base, LIVEKIT_SECRET: 'devsecret' });
    expect(config.secret).toBe('devsecret');
    expect(warnings.join()).toMatch(/9 characters; LiveKit recommends at least 32/);
  });

  it('should enable skip-verify only with the exact magic value', () => {
    const on = loadServiceConfig({
      ...base,
      LIVEKIT_INSECURE_SKIP_VERIFY_TLS: 'YES_I_KNOW_WHAT_I_AM_DOING',
    });
    expect(on.config.insecureSkipVerifyTls).toBe(true);
    expect(on.warnings.join()).toMatch(/NOT verified/);
    for (const value of ['true', 'yes_i_know_what_i_am_doing', '1']) {
      const off = loadServiceConfig({ ...base, LIVEKIT_INSECURE_SKIP_VERIFY_TLS: value });
      expect(off.config.insecureSkipVerifyTls).toBe(false);
      expect(off.warnings.join()).toMatch(/is ignored/);
    }
  });

  it('should accept upstream log levels case-insensitively and fall back to info', () => {
    const level = (v: string) => loadServiceConfig({ ...base, LIVEKIT_LOG_LEVEL: v });
    expect(level('DEBUG').config.logLevel).toBe('debug');
    expect(level('warning').config.logLevel).toBe('warn');
    expect(level('error').config.logLevel).toBe('error');
    expect(level('verbose').config.logLevel).toBe('info');
    expect(level('verbose').warnings.join()).toMatch(/LIVEKIT_LOG_LEVEL "verbose"/);
  });

  it('should derive the API URL from LIVEKIT_URL unless LIVEKIT_API_URL is set', () => {
    expect(loadServiceConfig({ ...base, LIVEKIT_URL: 'ws://livekit:7880' }).config.apiUrl).toBe(
      'http://livekit:7880',
    );
    expect(
      loadServiceConfig({ ...base, LIVEKIT_API_URL: 'http://livekit:7880/' }).config.apiUrl,
    ).toBe('http://livekit:7880');
    expect(issues({ ...base, LIVEKIT_API_URL: 'ftp://x' })[0]).toMatch(/^LIVEKIT_API_URL: /);
    expect(issues({ ...base, LIVEKIT_URL: 'not a url' })[0]).toMatch(
      /^LIVEKIT_URL: .*LIVEKIT_API_URL/,
    );
    expect(issues({ ...base, LIVEKIT_URL: 'ftp://sfu' })[0]).toMatch(/^LIVEKIT_URL: must be a ws/);
    // An odd LIVEKIT_URL is still returned verbatim when the API URL is given explicitly.
    expect(
      loadServiceConfig({ ...base, LIVEKIT_URL: 'odd', LIVEKIT_API_URL: 'http://sfu:7880' }).config
        .livekitUrl,
    ).toBe('odd');
  });

  it('should parse our switches', () => {
    const { config } = loadServiceConfig({
      ...base,
      LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'true',
      LIVEKIT_ALLOW_REMOTE_PUBLISH: 'yes',
      LIVEKIT_CAN_UPDATE_OWN_METADATA: 'TRUE',
      LIVEKIT_JWT_RATE_LIMIT: '0',
      LIVEKIT_JWT_TRUST_PROXY: '10.0.0.0/8, 172.16.0.1',
      LIVEKIT_OPENID_OVERRIDES: 'example.org=http://continuwuity:6167',
    });
    expect(config).toMatchObject({
      allowPrivateHomeservers: true,
      allowRemotePublish: true,
      canUpdateOwnMetadata: true,
      rateLimitPerMinute: 0,
      trustProxy: ['10.0.0.0/8', '172.16.0.1'],
    });
    expect([...config.openIdOverrides]).toEqual([['example.org', 'http://continuwuity:6167']]);
    expect(
      loadServiceConfig({ ...base, LIVEKIT_CAN_UPDATE_OWN_METADATA: 'yes' }).config
        .canUpdateOwnMetadata,
    ).toBe(false);
    expect(loadServiceConfig({ ...base, LIVEKIT_JWT_TRUST_PROXY: 'off' }).config.trustProxy).toBe(
      false,
    );
    expect(
      issues({ ...base, LIVEKIT_JWT_TRUST_PROXY: '10.0.0.0/33, 10.0.0.300, proxy local' }),
    ).toEqual([
      'LIVEKIT_JWT_TRUST_PROXY: must be true, false or a list of addresses, CIDRs, host names, loopback, linklocal, uniquelocal; got "10.0.0.0/33", "10.0.0.300", "proxy local"',
    ]);
    // A proxy by host name (the bundle's Traefik), resolved by the app.
    expect(
      loadServiceConfig({ ...base, LIVEKIT_JWT_TRUST_PROXY: 'loopback,traefik' }).config.trustProxy,
    ).toEqual(['loopback', 'traefik']);
    expect(loadServiceConfig({ ...base, LIVEKIT_JWT_TRUST_PROXY: 'true' }).config.trustProxy).toBe(
      true,
    );
  });

  it('should name each bad value of our variables', () => {
    expect(
      issues({
        ...base,
        LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'maybe',
        LIVEKIT_ALLOW_REMOTE_PUBLISH: 'sometimes',
        LIVEKIT_JWT_RATE_LIMIT: '-1',
        LIVEKIT_OPENID_OVERRIDES: 'example.org',
      }).map((i) => i.split(':')[0]),
    ).toEqual([
      'LIVEKIT_ALLOW_PRIVATE_HOMESERVERS',
      'LIVEKIT_OPENID_OVERRIDES',
      'LIVEKIT_ALLOW_REMOTE_PUBLISH',
      'LIVEKIT_JWT_RATE_LIMIT',
    ]);
  });

  it('should take a redis:// or rediss:// LIVEKIT_REDIS_URL, also from LIVEKIT_REDIS_URL_FILE', () => {
    expect(loadServiceConfig({ ...base }).config.redisUrl).toBeUndefined();
    const url = 'redis://:pw@redis:6379/2';
    expect(loadServiceConfig({ ...base, LIVEKIT_REDIS_URL: url }).config.redisUrl).toBe(url);
    const tls = 'rediss://redis.internal';
    expect(loadServiceConfig({ ...base, LIVEKIT_REDIS_URL: tls }).config.redisUrl).toBe(tls);
  });

  it.each([
    ['not a url', /LIVEKIT_REDIS_URL.*not a URL/],
    ['http://:hunter2@redis:6379', /LIVEKIT_REDIS_URL.*redis:\/\/ or rediss:\/\//],
    ['redis://:hunter2@redis:6379/db', /LIVEKIT_REDIS_URL.*database number/],
  ])('should refuse LIVEKIT_REDIS_URL=%s without echoing it', (value, message) => {
    let error: unknown;
    try {
      loadServiceConfig({ ...base, LIVEKIT_REDIS_URL: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(message);
    expect(String(error)).not.toContain('hunter2');
  });

  it('should read the client-server API overrides and the sanity check interval', () => {
    const { config, warnings } = loadServiceConfig({
      ...base,
      LIVEKIT_CS_API_URL_OVERRIDES: 'example.org=http://continuwuity:6167/, b.org:8448=https://b',
      LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: '30',
    });
    expect([...config.csApiOverrides]).toEqual([
      ['example.org', 'http://continuwuity:6167'],
      ['b.org:8448', 'https://b'],
    ]);
    expect(config.sanityCheckIntervalSeconds).toBe(30);
    expect(warnings).toEqual([]);
  });

  it('should refuse malformed overrides and a negative sanity check interval', () => {
    expect(() =>
      loadServiceConfig({
        ...base,
        LIVEKIT_CS_API_URL_OVERRIDES: 'example.org',
        LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: '-1',
      }),
    ).toThrow(/LIVEKIT_CS_API_URL_OVERRIDES[\s\S]*LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS/);
  });
});

describe('apiUrlFromLiveKitUrl', () => {
  it('should map ws to http and wss to https, keeping port and path', () => {
    expect(apiUrlFromLiveKitUrl('wss://sfu.example.org/livekit/sfu')).toBe(
      'https://sfu.example.org/livekit/sfu',
    );
    expect(apiUrlFromLiveKitUrl('ws://127.0.0.1:7880')).toBe('http://127.0.0.1:7880');
    expect(apiUrlFromLiveKitUrl('https://sfu:443/')).toBe('https://sfu:443');
  });
});

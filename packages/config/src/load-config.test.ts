import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { invalid } from './env-var.ts';
import { loadConfig } from './load-config.ts';
import { bind, boolean, integer, json, list, oneOf, string } from './parsers.ts';
import { insecureHttpIssue, url } from './url.ts';

function issuesOf(fn: () => unknown): { variable: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  const schema = {
    bind: bind('X_BIND').default({ host: '0.0.0.0', port: 8080 }),
    name: string('X_NAME'),
    maxAge: integer('X_MAX_AGE', { min: 0, max: 86400 }).default(3600),
    debug: boolean('X_DEBUG').default(false),
    level: oneOf('X_LEVEL', ['info', 'debug'] as const).default('info'),
    urls: list('X_URLS').optional(),
    secret: string('X_SECRET').secret().optional(),
  };

  it('should parse values and apply defaults into a frozen object', () => {
    const cfg = loadConfig(schema, { X_NAME: ' hello ', X_URLS: 'a, b', X_DEBUG: 'YES' });
    expect(cfg).toEqual({
      bind: { host: '0.0.0.0', port: 8080 },
      name: 'hello',
      maxAge: 3600,
      debug: true,
      level: 'info',
      urls: ['a', 'b'],
      secret: undefined,
    });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('should report every bad variable at once', () => {
    const issues = issuesOf(() =>
      loadConfig(schema, { X_BIND: 'nope', X_MAX_AGE: '-1', X_DEBUG: 'maybe', X_LEVEL: 'trace' }),
    );
    expect(issues.map((i) => i.variable)).toEqual([
      'X_BIND',
      'X_NAME',
      'X_MAX_AGE',
      'X_DEBUG',
      'X_LEVEL',
    ]);
    expect(issues[1]?.message).toBe('is required but not set');
  });

  it('should name each variable in the error message', () => {
    try {
      loadConfig(schema, { X_MAX_AGE: '1.5' });
    } catch (err) {
      expect((err as Error).message).toContain('X_NAME: is required but not set');
      expect((err as Error).message).toContain('X_MAX_AGE: must be an integer, got "1.5"');
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('should treat an empty value as unset', () => {
    expect(issuesOf(() => loadConfig(schema, { X_NAME: '   ' }))[0]?.variable).toBe('X_NAME');
  });

  it('should read a secret from NAME_FILE and drop one trailing newline', () => {
    const cfg = loadConfig(
      schema,
      { X_NAME: 'n', X_SECRET_FILE: '/run/secrets/x' },
      { readFile: (p) => (p === '/run/secrets/x' ? 's3cret\n' : '') },
    );
    expect(cfg.secret).toBe('s3cret');
  });

  it('should refuse a secret given both directly and by file', () => {
    const issues = issuesOf(() =>
      loadConfig(
        schema,
        { X_NAME: 'n', X_SECRET: 'a', X_SECRET_FILE: '/f' },
        { readFile: () => 'b' },
      ),
    );
    expect(issues).toEqual([
      { variable: 'X_SECRET_FILE', message: 'set together with X_SECRET; set only one' },
    ]);
  });

  it('should name the file variable when the file cannot be read', () => {
    const issues = issuesOf(() =>
      loadConfig(schema, { X_NAME: 'n', X_SECRET_FILE: '/does/not/exist' }),
    );
    expect(issues).toEqual([
      { variable: 'X_SECRET_FILE', message: 'cannot read file "/does/not/exist" (ENOENT)' },
    ]);
  });

  it('should never echo a secret value in messages', () => {
    const s = {
      key: string('K')
        .secret()
        .refine((v) => (v.length < 32 ? invalid('is too short') : v)),
    };
    const issues = issuesOf(() => loadConfig(s, { K: 'hunter2' }));
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it('should accept an alias when the main name is unset', () => {
    const s = { port: integer('NEW_PORT').alias('OLD_PORT').default(1) };
    expect(loadConfig(s, { OLD_PORT: '9' }).port).toBe(9);
    expect(loadConfig(s, { OLD_PORT: '9', NEW_PORT: '7' }).port).toBe(7);
  });

  it('should run cross-variable checks only when every variable parsed', () => {
    const s = { a: integer('A'), b: integer('B') };
    const check = (c: { a: number; b: number }) =>
      c.a > c.b ? [{ variable: 'A', message: 'must not exceed B' }] : [];
    expect(issuesOf(() => loadConfig(s, { A: '2', B: '1' }, { check }))[0]?.message).toBe(
      'must not exceed B',
    );
    expect(issuesOf(() => loadConfig(s, { A: 'x', B: '1' }, { check }))[0]?.message).toContain(
      'integer',
    );
  });

  it('should validate JSON shape', () => {
    const s = {
      o: json('O', (v) =>
        typeof v === 'object' && v !== null && !Array.isArray(v)
          ? v
          : invalid('must be a JSON object'),
      ),
    };
    expect(loadConfig(s, { O: '{"a":1}' }).o).toEqual({ a: 1 });
    expect(issuesOf(() => loadConfig(s, { O: '[1]' }))[0]?.message).toBe('must be a JSON object');
    expect(issuesOf(() => loadConfig(s, { O: '{' }))[0]?.message).toMatch(/^is not valid JSON/);
  });
});

describe('bind', () => {
  const s = { b: bind('B') };
  it.each([
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['[::]:80', { host: '::', port: 80 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:9', { host: 'localhost', port: 9 }],
  ])('should parse %s', (raw, expected) => {
    expect(loadConfig(s, { B: raw }).b).toEqual(expected);
  });
  it.each(['8080', 'host:', 'host:99999', '::1:80', 'a:b'])('should refuse %s', (raw) => {
    expect(issuesOf(() => loadConfig(s, { B: raw }))[0]?.variable).toBe('B');
  });
});

describe('url', () => {
  const s = { u: url('U') };
  it('should strip a trailing slash', () => {
    expect(loadConfig(s, { U: 'https://hs.example.org/' }).u).toBe('https://hs.example.org');
  });
  it.each([
    ['hs.example.org', 'must be an absolute URL'],
    ['ftp://hs.example.org', 'must use https or http'],
    ['https://user:pw@hs.example.org', 'must not contain a user name or password'],
  ])('should refuse %s', (raw, message) => {
    expect(issuesOf(() => loadConfig(s, { U: raw }))[0]?.message).toContain(message);
  });
  it('should allow plain http only for loopback or when explicitly allowed', () => {
    expect(insecureHttpIssue('http://127.0.0.1:8008', false)).toBeUndefined();
    expect(insecureHttpIssue('http://[::1]:8008', false)).toBeUndefined();
    expect(insecureHttpIssue('http://localhost', false)).toBeUndefined();
    expect(insecureHttpIssue('http://continuwuity:6167', false)).toMatch(/must use https/);
    expect(insecureHttpIssue('http://continuwuity:6167', true)).toBeUndefined();
    expect(insecureHttpIssue('https://hs.example.org', false)).toBeUndefined();
  });
});

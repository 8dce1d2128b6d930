import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { testConfig } from './test-config.ts';

// The documents are answered by a pre-rendered fast path in front of Fastify when the app
// listens; app.inject() goes through the Fastify routes. Both must answer identically.
describe('prerendered fast path', () => {
  let app: FastifyInstance;
  let base: string;
  let etag: string;

  beforeAll(async () => {
    app = buildApp(testConfig());
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    etag = String((await app.inject({ url: '/.well-known/matrix/client' })).headers.etag);
  });
  afterAll(async () => {
    await app.close();
  });

  const IGNORED = new Set(['date', 'connection', 'keep-alive']);
  function headersOf(entries: Iterable<[string, string]>): Record<string, string> {
    return Object.fromEntries([...entries].filter(([k]) => !IGNORED.has(k)));
  }

  const cases: [string, string, Record<string, string>][] = [
    ['GET', '/.well-known/matrix/client', {}],
    ['HEAD', '/.well-known/matrix/client', {}],
    ['GET', '/.well-known/matrix/client?from=test', {}],
    ['GET', '/.well-known/matrix/server', {}],
    ['GET', '/.well-known/matrix/support', {}],
    ['HEAD', '/.well-known/matrix/support', {}],
    ['GET', '/.well-known/matrix/client', { 'if-none-match': 'ETAG' }],
    ['HEAD', '/.well-known/matrix/client', { 'if-none-match': 'W/ETAG' }],
    ['GET', '/.well-known/matrix/client', { 'if-none-match': '"stale"' }],
  ];

  it.each(cases)('should answer %s %s %o exactly as the Fastify route', async (method, url, h) => {
    const headers = Object.fromEntries(
      Object.entries(h).map(([k, v]) => [k, v.replace('ETAG', etag)]),
    );
    const live = await fetch(`${base}${url}`, { method, headers });
    const injected = await app.inject({ method: method as 'GET' | 'HEAD', url, headers });
    expect(live.status).toBe(injected.statusCode);
    expect(await live.text()).toBe(injected.body);
    const expected = headersOf(Object.entries(injected.headers).map(([k, v]) => [k, String(v)]));
    // Fastify adds `content-length: 0` to a 304 answering HEAD; RFC 9110 §8.6 allows a 304 to
    // carry Content-Length only if it equals the 200's, so the fast path leaves it out.
    if (injected.statusCode === 304) delete expected['content-length'];
    expect(headersOf(live.headers)).toEqual(expected);
  });

  it('should leave everything else to Fastify', async () => {
    const post = await fetch(`${base}/.well-known/matrix/client`, { method: 'POST' });
    expect(post.status).toBe(405);
    const preflight = await fetch(`${base}/.well-known/matrix/client`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-max-age')).toBe('86400');
  });

  it('should record fast-path answers in the request metrics', async () => {
    const before = await app.inject({ url: '/metrics' });
    const count = (text: string) =>
      Number(
        /http_requests_total\{method="GET",route="\/\.well-known\/matrix\/server",status="200"\} (\d+)/.exec(
          text,
        )?.[1] ?? 0,
      );
    await fetch(`${base}/.well-known/matrix/server`);
    await fetch(`${base}/.well-known/matrix/server`);
    const after = await app.inject({ url: '/metrics' });
    expect(count(after.body) - count(before.body)).toBe(2);
  });

  it('should fall through to Fastify for a document that is not configured', async () => {
    const bare = buildApp(testConfig({ WELL_KNOWN_SERVER: undefined }));
    const url = await bare.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${url}/.well-known/matrix/server`);
      expect(res.status).toBe(404);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toMatchObject({ errcode: 'M_NOT_FOUND' });
    } finally {
      await bare.close();
    }
  });
});

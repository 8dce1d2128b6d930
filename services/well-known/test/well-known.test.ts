import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { testConfig } from './test-config.ts';

const apps: FastifyInstance[] = [];
function app(overrides: Record<string, string | undefined> = {}): FastifyInstance {
  const a = buildApp(testConfig(overrides));
  apps.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const CLIENT = '/.well-known/matrix/client';

function expectCors(headers: Record<string, unknown>): void {
  expect(headers['access-control-allow-origin']).toBe('*');
}

describe('GET /.well-known/matrix/client', () => {
  it('should serve the client document with CORS, caching headers and JSON type', async () => {
    const res = await app().inject({ url: CLIENT });
    expect(res.statusCode).toBe(200);
    expectCors(res.headers);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(res.json()).toEqual({
      'io.element.e2ee': { default: true },
      'm.homeserver': { base_url: 'https://matrix.example.org' },
      'm.identity_server': { base_url: 'https://vector.im' },
      'org.matrix.msc4143.rtc_foci': [
        { type: 'livekit', livekit_service_url: 'https://livekit.example.org/livekit-jwt' },
      ],
    });
  });

  it('should use the configured max-age', async () => {
    const res = await app({ WELL_KNOWN_CACHE_MAX_AGE: '14400' }).inject({ url: CLIENT });
    expect(res.headers['cache-control']).toBe('public, max-age=14400');
  });

  it('should answer 304 without a body for a matching If-None-Match', async () => {
    const a = app();
    const first = await a.inject({ url: CLIENT });
    const etag = String(first.headers.etag);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await a.inject({ url: CLIENT, headers: { 'if-none-match': header } });
      expect(res.statusCode).toBe(304);
      expect(res.body).toBe('');
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBe('public, max-age=3600');
      expectCors(res.headers);
    }
    const stale = await a.inject({ url: CLIENT, headers: { 'if-none-match': '"stale"' } });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toBe(first.body);
  });

  it('should answer HEAD with the same headers and no body', async () => {
    const a = app();
    const get = await a.inject({ url: CLIENT });
    const head = await a.inject({ method: 'HEAD', url: CLIENT });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expectCors(head.headers);
  });

  it('should change the ETag when the document changes', async () => {
    const a = await app().inject({ url: CLIENT });
    const b = await app({ WELL_KNOWN_HOMESERVER_BASE_URL: 'https://other.example.org' }).inject({
      url: CLIENT,
    });
    expect(a.headers.etag).not.toBe(b.headers.etag);
  });
});

describe('GET /.well-known/matrix/server', () => {
  it('should serve m.server', async () => {
    const res = await app().inject({ url: '/.well-known/matrix/server' });
    expect(res.statusCode).toBe(200);
    expectCors(res.headers);
    expect(res.headers.etag).toBeDefined();
    expect(res.json()).toEqual({ 'm.server': 'matrix.example.org:443' });
  });

  it('should answer 404 M_NOT_FOUND with CORS when not configured', async () => {
    const res = await app({ WELL_KNOWN_SERVER: undefined }).inject({
      url: '/.well-known/matrix/server',
    });
    expect(res.statusCode).toBe(404);
    expectCors(res.headers);
    expect(res.json()).toEqual({
      errcode: 'M_NOT_FOUND',
      error: 'No server discovery information is published here',
    });
  });
});

describe('GET /.well-known/matrix/support', () => {
  it('should serve contacts and the support page', async () => {
    const res = await app().inject({ url: '/.well-known/matrix/support' });
    expect(res.statusCode).toBe(200);
    expectCors(res.headers);
    expect(res.json()).toEqual({
      contacts: [
        {
          role: 'm.role.admin',
          matrix_id: '@admin:example.org',
          email_address: 'admin@example.org',
        },
      ],
      support_page: 'https://example.org/help',
    });
  });

  it('should answer 404 when neither contacts nor a page is configured', async () => {
    const res = await app({
      WELL_KNOWN_SUPPORT_PAGE: undefined,
      WELL_KNOWN_SUPPORT_CONTACTS: undefined,
    }).inject({ method: 'HEAD', url: '/.well-known/matrix/support' });
    expect(res.statusCode).toBe(404);
    expectCors(res.headers);
  });
});

describe('CORS preflight', () => {
  it.each([CLIENT, '/_matrix/client/v1/rtc/transports', '/unknown'])(
    'should answer OPTIONS %s with 204 and the allowed methods and headers',
    async (url) => {
      const res = await app().inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'https://app.element.io',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expectCors(res.headers);
      expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe(
        'X-Requested-With, Content-Type, Authorization, Accept, Origin',
      );
      expect(res.headers['access-control-max-age']).toBe('86400');
    },
  );

  it('should answer a bare OPTIONS (no Origin) with 204 too', async () => {
    const res = await app().inject({ method: 'OPTIONS', url: CLIENT });
    expect(res.statusCode).toBe(204);
    expectCors(res.headers);
  });
});

describe('errors', () => {
  it('should answer unknown paths with 404 M_UNRECOGNIZED and CORS', async () => {
    const res = await app().inject({ url: '/.well-known/matrix/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expectCors(res.headers);
    expect(res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'] as const)(
    'should answer %s on a document with 405 M_UNRECOGNIZED and CORS',
    async (method) => {
      const res = await app().inject({ method, url: CLIENT, payload: {} });
      expect(res.statusCode).toBe(405);
      expectCors(res.headers);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.json().errcode).toBe('M_UNRECOGNIZED');
    },
  );

  it('should refuse an oversized body with 413 M_TOO_LARGE', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/_matrix/client/v1/rtc/transports',
      payload: { data: 'x'.repeat(4096) },
    });
    expect(res.statusCode).toBe(413);
    expectCors(res.headers);
    expect(res.json().errcode).toBe('M_TOO_LARGE');
  });

  it('should answer a malformed path with a Matrix error', async () => {
    const res = await app().inject({ url: '/.well-known/matrix/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expectCors(res.headers);
    expect(res.json().errcode).toBe('M_UNRECOGNIZED');
  });
});

describe('GET /healthz and /metrics', () => {
  it('should report health', async () => {
    const res = await app().inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('should expose request counts and latency by route and status', async () => {
    const a = app();
    await a.inject({ url: CLIENT });
    await a.inject({ url: CLIENT });
    await a.inject({ url: '/nope' });
    const res = await a.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(
      'http_requests_total{method="GET",route="/.well-known/matrix/client",status="200"} 2',
    );
    expect(res.body).toContain(
      'http_requests_total{method="GET",route="unmatched",status="404"} 1',
    );
    expect(res.body).toContain('http_request_duration_seconds_bucket{le="0.005"');
    expect(res.body).toContain('well_known_whoami_checks_total');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CORS, getTokenBody, jwtOf, LogSink, makeApp, SECRET } from './helpers.ts';

describe('livekit-jwt rate limit', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });
  /** POST /get_token from `remoteAddress`, with the `X-Forwarded-For` a proxy would add. */
  const post = (remoteAddress: string, xff?: string) =>
    app.inject({
      method: 'POST',
      url: '/get_token',
      payload: getTokenBody(),
      remoteAddress,
      ...(xff === undefined ? {} : { headers: { 'x-forwarded-for': xff } }),
    });

  it('should answer 429 M_LIMIT_EXCEEDED with retry_after_ms per client IP', async () => {
    const made = await makeApp({ env: { LIVEKIT_JWT_RATE_LIMIT: '3' } });
    app = made.app;
    for (let i = 0; i < 3; i++) expect((await post('192.0.2.1')).statusCode).toBe(200);
    const limited = await post('192.0.2.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers).toMatchObject(CORS);
    const body = limited.json();
    expect(body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(typeof body.error).toBe('string');
    expect(body.retry_after_ms).toBeGreaterThan(0);
    expect(body.retry_after_ms).toBeLessThanOrEqual(60_000);
    expect(made.verifier.calls).toHaveLength(3);
    expect((await post('192.0.2.2')).statusCode).toBe(200);
    // The preflight and the health check are not limited.
    expect(
      (await app.inject({ method: 'OPTIONS', url: '/get_token', remoteAddress: '192.0.2.1' }))
        .statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.1' })).statusCode,
    ).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/outcome="rate_limited"\} 1/);
  });

  it('should not limit when LIVEKIT_JWT_RATE_LIMIT=0', async () => {
    const made = await makeApp({ env: { LIVEKIT_JWT_RATE_LIMIT: '0' } });
    app = made.app;
    for (let i = 0; i < 50; i++) {
      const res = await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
      expect(res.statusCode).toBe(200);
    }
  });

  it('should trust X-Forwarded-For from private-network proxies by default', async () => {
    const made = await makeApp({ env: { LIVEKIT_JWT_RATE_LIMIT: '1' } });
    app = made.app;
    // A reverse proxy in a compose network: each client gets its own bucket.
    expect((await post('172.18.0.5', '198.51.100.1')).statusCode).toBe(200);
    expect((await post('172.18.0.5', '198.51.100.2')).statusCode).toBe(200);
    expect((await post('172.18.0.5', '198.51.100.1')).statusCode).toBe(429);
    // A client on a public address cannot choose its bucket.
    expect((await post('203.0.113.9', '198.51.100.3')).statusCode).toBe(200);
    expect((await post('203.0.113.9', '198.51.100.4')).statusCode).toBe(429);
  });

  it('should key on X-Forwarded-For only from a trusted proxy', async () => {
    const made = await makeApp({
      env: { LIVEKIT_JWT_RATE_LIMIT: '1', LIVEKIT_JWT_TRUST_PROXY: '10.0.0.1' },
    });
    app = made.app;
    expect((await post('10.0.0.1', '198.51.100.1')).statusCode).toBe(200);
    expect((await post('10.0.0.1', '198.51.100.2')).statusCode).toBe(200);
    expect((await post('10.0.0.1', '198.51.100.1')).statusCode).toBe(429);
    // An untrusted peer cannot pick its own bucket.
    expect((await post('203.0.113.9', '198.51.100.3')).statusCode).toBe(200);
    expect((await post('203.0.113.9', '198.51.100.4')).statusCode).toBe(429);
  });
});

describe('livekit-jwt trusted proxy by host name', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });
  const post = (remoteAddress: string, xff: string) =>
    app.inject({
      method: 'POST',
      url: '/get_token',
      payload: getTokenBody(),
      remoteAddress,
      headers: { 'x-forwarded-for': xff },
    });

  it("should believe only the named proxy's address, not its neighbours on the network", async () => {
    // `localhost` stands in for the bundle's `traefik`: a name the system resolver knows.
    const made = await makeApp({
      env: { LIVEKIT_JWT_RATE_LIMIT: '1', LIVEKIT_JWT_TRUST_PROXY: 'localhost' },
    });
    app = made.app;
    expect((await post('127.0.0.1', '198.51.100.1')).statusCode).toBe(200);
    expect((await post('127.0.0.1', '198.51.100.2')).statusCode).toBe(200);
    expect((await post('127.0.0.1', '198.51.100.1')).statusCode).toBe(429);
    // Another container on the same private network forging X-Forwarded-For keeps its bucket.
    expect((await post('172.18.0.9', '198.51.100.3')).statusCode).toBe(200);
    expect((await post('172.18.0.9', '198.51.100.4')).statusCode).toBe(429);
  });
});

describe('livekit-jwt logs', () => {
  it('should never log access tokens, JWTs or the secret', async () => {
    const logs = new LogSink();
    const made = await makeApp({ logs, env: { LIVEKIT_LOG_LEVEL: 'debug' } });
    const app = made.app;
    const secretToken = 'syt_very_secret_openid_token_42';
    const ok = await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
    const jwt = jwtOf(ok);
    made.verifier.failure = 'rejected';
    await app.inject({
      method: 'POST',
      url: '/get_token?access_token=syt_query_token',
      payload: getTokenBody('example.com', {
        openid_token: { access_token: secretToken, matrix_server_name: 'example.com' },
      }),
      headers: { authorization: 'Bearer syt_header_token' },
    });
    await app.inject({ method: 'POST', url: '/sfu/get', payload: `{"room":"${secretToken}"` });
    await app.close();
    expect(logs.text).toContain('token issued');
    expect(logs.text).toContain('openid_rejected');
    for (const secret of [
      secretToken,
      'valid-token',
      jwt,
      SECRET,
      'syt_query_token',
      'syt_header_token',
    ]) {
      expect(logs.text).not.toContain(secret);
    }
  });
});

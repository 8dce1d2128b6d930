import type { FastifyInstance } from 'fastify';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CORS, type FakeRooms, type FakeVerifier, getTokenBody, makeApp } from './helpers.ts';

// Rows 1–6 of the reference conformance checklist (research/lk-jwt-service.md §9).
describe('livekit-jwt HTTP surface', () => {
  let app: FastifyInstance;
  let verifier: FakeVerifier;
  let rooms: FakeRooms;
  afterEach(async () => {
    await app.close();
  });
  const setup = async () => {
    const made = await makeApp();
    app = made.app;
    verifier = made.verifier;
    rooms = made.rooms;
  };

  it('should answer GET and HEAD /healthz with 200 and an empty body, other methods 405 (row 1)', async () => {
    await setup();
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await app.inject({ method, url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
    }
    for (const method of ['POST', 'OPTIONS', 'PUT', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: '/healthz',
        payload: 'x=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.statusCode).toBe(405);
      expect(res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    }
  });

  it.each(['/sfu/get', '/get_token'])(
    'should answer OPTIONS %s with 200, an empty body and the CORS block (row 2)',
    async (url) => {
      await setup();
      const res = await app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'https://call.element.io',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(res.headers).toMatchObject(CORS);
      expect(res.headers.vary).toBeUndefined();
      expect(verifier.calls).toHaveLength(0);
    },
  );

  it.each(['/sfu/get', '/get_token'])(
    'should answer GET, PUT, DELETE and PATCH %s with 405 and the CORS block, no outbound call (row 3)',
    async (url) => {
      await setup();
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
        const res = await app.inject({ method, url, payload: getTokenBody() });
        expect(res.statusCode).toBe(405);
        expect(res.headers).toMatchObject(CORS);
        expect(res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      }
      expect(verifier.calls).toHaveLength(0);
      expect(rooms.created).toHaveLength(0);
    },
  );

  it('should put the CORS block and JSON type on successes and errors (rows 4 and 5)', async () => {
    await setup();
    const ok = await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers).toMatchObject(CORS);
    expect(Object.keys(ok.json())).toEqual(['url', 'jwt']);
    const bad = await app.inject({ method: 'POST', url: '/get_token', payload: '{' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers).toMatchObject(CORS);
    expect(bad.body).toBe('{"errcode":"M_NOT_JSON","error":"Error reading request"}');
  });

  it('should answer unknown paths and /sfu/get/ with 404 (row 6)', async () => {
    await setup();
    for (const url of [
      '/nope',
      '/sfu/get/',
      '/get_token/',
      '//get_token',
      '/livekit/jwt/get_token',
    ]) {
      const res = await app.inject({ method: 'POST', url, payload: getTokenBody() });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    }
    expect(verifier.calls).toHaveLength(0);
  });

  it('should answer a malformed path escape with a Matrix error and CORS', async () => {
    await setup();
    const res = await app.inject({ method: 'POST', url: '/get_token%zz', payload: '{}' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errcode: 'M_UNRECOGNIZED' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(verifier.calls).toHaveLength(0);
  });

  it('should put the CORS block on a token path the router reaches after decoding', async () => {
    await setup();
    const res = await app.inject({ method: 'POST', url: '/%67et_token', payload: getTokenBody() });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(CORS);
  });

  it('should ignore a query string on the token paths', async () => {
    await setup();
    const res = await app.inject({
      method: 'POST',
      url: '/get_token?x=1',
      payload: getTokenBody(),
    });
    expect(res.statusCode).toBe(200);
  });

  it('should answer a body over 1 MiB with 413 M_TOO_LARGE and the CORS block', async () => {
    await setup();
    const payload = JSON.stringify({ ...getTokenBody(), pad: 'x'.repeat(1024 * 1024) });
    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ errcode: 'M_TOO_LARGE' });
    expect(res.headers).toMatchObject(CORS);
    expect(verifier.calls).toHaveLength(0);
  });

  it('should answer requests the HTTP parser refuses with a Matrix error and CORS', async () => {
    await setup();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const raw = async (request: string) =>
      new Promise<string>((resolve, reject) => {
        let answer = '';
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
        socket.on('data', (b: Buffer) => (answer += b.toString()));
        socket.on('close', () => {
          resolve(answer);
        });
        socket.on('error', reject);
      });
    const huge = await raw(
      `POST /get_token HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge.toLowerCase()).toContain('access-control-allow-origin: *');
    expect(huge).toContain('"errcode":"M_UNKNOWN"');
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain('"errcode":"M_UNRECOGNIZED"');
    expect(verifier.calls).toHaveLength(0);
  });

  it('should serve /metrics with token outcomes', async () => {
    await setup();
    await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
    await app.inject({ method: 'POST', url: '/sfu/get', payload: '[' });
    verifier.failure = 'timeout';
    await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /livekit_jwt_token_requests_total\{endpoint="\/get_token",outcome="ok_full"\} 1/,
    );
    expect(res.body).toMatch(
      /livekit_jwt_token_requests_total\{endpoint="\/sfu\/get",outcome="not_json"\} 1/,
    );
    expect(res.body).toMatch(
      /livekit_jwt_token_requests_total\{endpoint="\/get_token",outcome="openid_timeout"\} 1/,
    );
    expect(res.body).toMatch(
      /livekit_jwt_openid_verify_duration_seconds_count\{result="timeout"\} 1/,
    );
    expect(res.body).toMatch(/livekit_jwt_create_room_duration_seconds_count\{result="ok"\} 1/);
    expect(res.body).toMatch(/livekit_jwt_token_request_duration_seconds_bucket/);
  });
});

import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  installMatrixErrorHandlers,
  matrixClientErrorHandler,
  MatrixError,
  matrixFrameworkErrors,
  metricsPlugin,
} from '../src/index.ts';

const apps: FastifyInstance[] = [];

async function build(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64, frameworkErrors: matrixFrameworkErrors });
  apps.push(app);
  installMatrixErrorHandlers(app);
  await app.register(metricsPlugin, { processMetrics: false });
  app.get('/ok', async () => ({ ok: true }));
  app.post('/echo', async (request) => request.body);
  app.get('/teapot', async () => {
    throw new MatrixError(418, 'M_TEAPOT', 'I am a teapot', { headers: { 'x-why': 'tea' } });
  });
  app.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/users/:id', async () => ({}));
  await app.ready();
  return app;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('installMatrixErrorHandlers', () => {
  it('should answer an unknown path with 404 M_UNRECOGNIZED', async () => {
    const res = await (await build()).inject({ url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });

  it('should answer a known path with the wrong method with 405 and Allow', async () => {
    const res = await (await build()).inject({ method: 'DELETE', url: '/ok?x=1' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.json().errcode).toBe('M_UNRECOGNIZED');
  });

  it('should send a thrown MatrixError with its status, headers and body', async () => {
    const res = await (await build()).inject({ url: '/teapot' });
    expect(res.statusCode).toBe(418);
    expect(res.headers['x-why']).toBe('tea');
    expect(res.json()).toEqual({ errcode: 'M_TEAPOT', error: 'I am a teapot' });
  });

  it('should never leak an unexpected error', async () => {
    const res = await (await build()).inject({ url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.json()).toEqual({ errcode: 'M_UNKNOWN', error: 'Internal server error' });
  });

  it('should map body errors to Matrix errors', async () => {
    const app = await build();
    const post = (payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': type } });
    expect((await post('{"a":')).json()).toEqual({
      errcode: 'M_NOT_JSON',
      error: 'Request body is not valid JSON',
    });
    expect((await post('x'.repeat(100))).statusCode).toBe(413);
    expect((await post('a=b', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    expect((await post('{"a":1}')).json()).toEqual({ a: 1 });
  });

  it('should answer a malformed path encoding as a Matrix error', async () => {
    const res = await (await build()).inject({ url: '/users/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errcode).toBe('M_UNRECOGNIZED');
  });
});

describe('metricsPlugin', () => {
  it('should count requests and time them by route pattern, method and status', async () => {
    const app = await build();
    await app.inject({ url: '/ok' });
    await app.inject({ url: '/ok' });
    await app.inject({ url: '/users/42' });
    await app.inject({ url: '/random/scanner/path' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('http_requests_total{method="GET",route="/ok",status="200"} 2');
    expect(res.body).toContain('route="/users/:id",status="200"} 1');
    expect(res.body).toContain(
      'http_requests_total{method="GET",route="unmatched",status="404"} 1',
    );
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/ok",status="200"\} 2/,
    );
    expect(app.metrics.getSingleMetric('http_requests_total')).toBeDefined();
  });

  it('should give each app its own registry', async () => {
    const a = await build();
    const b = await build();
    await a.inject({ url: '/ok' });
    expect(a.metrics).not.toBe(b.metrics);
    expect((await b.inject({ url: '/metrics' })).body).not.toContain('route="/ok"');
  });
});

describe('matrixClientErrorHandler', () => {
  async function raw(port: number, request: string): Promise<string> {
    const { connect } = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      let out = '';
      socket.on('data', (b: Buffer) => (out += b.toString()));
      socket.on('close', () => {
        resolve(out);
      });
      socket.on('error', reject);
    });
  }

  it('should answer parser-level failures as Matrix errors with the given headers', async () => {
    const app = Fastify({
      logger: false,
      clientErrorHandler: matrixClientErrorHandler({ 'access-control-allow-origin': '*' }),
    });
    apps.push(app);
    app.get('/ok', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const big = await raw(
      port,
      `GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toContain('access-control-allow-origin: *\r\n');
    expect(big).toContain('{"errcode":"M_UNKNOWN","error":"Request headers too large"}');
    const bad = await raw(port, 'GET /ok HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 /);
    expect(bad).toContain('{"errcode":"M_UNRECOGNIZED","error":"Malformed request"}');
  });
});

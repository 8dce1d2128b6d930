import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { limitInFlight, OVERLOADED, PRESSURE_SAMPLE_MS, sheddingOptions } from '../src/index.ts';

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** An app whose `/slow` waits until released, as a request waiting on a homeserver does. */
function slowApp(): { app: FastifyInstance; release: () => void; waiting: () => number } {
  const app = Fastify({ logger: false });
  apps.push(app);
  const held: (() => void)[] = [];
  app.get('/slow', async () => {
    await new Promise<void>((resolve) => held.push(resolve));
    return { ok: true };
  });
  app.get('/fast', async () => ({ ok: true }));
  return { app, release: () => held.shift()?.(), waiting: () => held.length };
}

async function until(condition: () => boolean): Promise<void> {
  await expect.poll(condition, { interval: 5 }).toBe(true);
}

describe('limitInFlight', () => {
  it('should refuse a counted request past the limit with the Matrix 503 and admit again after an answer', async () => {
    const { app, release, waiting } = slowApp();
    limitInFlight(app, {
      maxInFlight: 1,
      counts: (request) => request.routeOptions.url === '/slow',
      headers: { 'access-control-allow-origin': '*' },
    });
    const first = app.inject({ url: '/slow' });
    await until(() => waiting() === 1);
    const refused = await app.inject({ url: '/slow' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual(OVERLOADED);
    expect(refused.headers).toMatchObject({
      'retry-after': '5',
      'access-control-allow-origin': '*',
    });
    // Requests that do not count are never refused.
    expect((await app.inject({ url: '/fast' })).statusCode).toBe(200);
    release();
    expect((await first).statusCode).toBe(200);
    const again = app.inject({ url: '/slow' });
    await until(() => waiting() === 1);
    release();
    expect((await again).statusCode).toBe(200);
  });

  it('should add no limit at all for maxInFlight 0', async () => {
    const { app, release, waiting } = slowApp();
    limitInFlight(app, { maxInFlight: 0, counts: () => true });
    const answers = [app.inject({ url: '/slow' }), app.inject({ url: '/slow' })];
    await until(() => waiting() === 2);
    release();
    release();
    expect((await Promise.all(answers)).map((r) => r.statusCode)).toEqual([200, 200]);
  });
});

describe('sheddingOptions', () => {
  it('should shed every route but /healthz and /metrics with the Matrix 503', async () => {
    const options = sheddingOptions(250);
    expect(options).toMatchObject({ maxEventLoopDelay: 250, sampleInterval: PRESSURE_SAMPLE_MS });
    // What @fastify/under-pressure does while the event loop lags: call the handler first.
    const app = Fastify({ logger: false });
    apps.push(app);
    app.addHook('onRequest', async (request, reply) => {
      options.pressureHandler(request, reply);
    });
    for (const path of ['/healthz', '/metrics', '/work']) app.get(path, async () => ({ path }));
    const work = await app.inject({ url: '/work' });
    expect(work.statusCode).toBe(503);
    expect(work.headers['retry-after']).toBe('5');
    expect(work.json()).toEqual(OVERLOADED);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

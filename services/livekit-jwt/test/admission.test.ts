import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import type { OpenIdVerifier } from '../src/tokens/token-service.ts';
import { CORS, FakeRooms, getTokenBody, testConfig } from './helpers.ts';

// The in-flight limit on a listening server (not only through inject()):
// the refusal must still carry the upstream CORS block and be counted like any token answer.
describe('livekit-jwt admission limit on a listening server', () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let verifies = 0;
  const verifier: OpenIdVerifier = {
    verify: async (input) => {
      verifies++;
      await held;
      return { sub: `@alice:${input.serverName}` };
    },
    close: async () => undefined,
  };
  const appP = buildApp({
    config: testConfig({ LIVEKIT_JWT_MAX_IN_FLIGHT: '1', LIVEKIT_JWT_RATE_LIMIT: '0' }),
    verifier,
    rooms: new FakeRooms(),
    logStream: false,
  });
  afterAll(async () => {
    release();
    await (await appP).close();
  });

  it('should refuse past the limit with the CORS block and count it as overloaded', async () => {
    const app = await appP;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const post = () =>
      fetch(`${base}/get_token`, { method: 'POST', body: JSON.stringify(getTokenBody()) });
    const first = post();
    await expect.poll(() => verifies).toBe(1);
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      errcode: 'M_UNKNOWN',
      error: 'The service is overloaded; retry later',
    });
    for (const [name, value] of Object.entries(CORS)) {
      expect(refused.headers.get(name)).toBe(value);
    }
    expect(verifies).toBe(1);
    release();
    expect((await first).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /livekit_jwt_token_requests_total\{endpoint="\/get_token",outcome="overloaded"\} 1/,
    );
  });
});

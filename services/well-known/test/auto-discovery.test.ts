import type { FastifyInstance } from 'fastify';
import { AutoDiscovery, AutoDiscoveryAction, type IClientWellKnown } from 'matrix-js-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { type FakeHomeserver, startFakeHomeserver } from './fake-homeserver.ts';
import { testConfig } from './test-config.ts';

// matrix-js-sdk's findClientConfig(domain) always fetches https://<domain>/.well-known/…, so the
// document is fetched from the service here and handed to fromDiscoveryConfig, which runs the
// same validation, including the probe of /_matrix/client/versions on the homeserver base URL.
describe('matrix-js-sdk AutoDiscovery', () => {
  let hs: FakeHomeserver;
  let app: FastifyInstance;

  beforeAll(async () => {
    hs = await startFakeHomeserver();
    app = buildApp(
      testConfig({
        WELL_KNOWN_HOMESERVER_BASE_URL: hs.url,
        WELL_KNOWN_IDENTITY_SERVER_BASE_URL: hs.url,
        WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://a.example.org/jwt,https://b.example.org',
        WELL_KNOWN_CLIENT_EXTRA:
          '{"io.element.e2ee":{"default":true},"org.matrix.msc2965.authentication":{"issuer":"https://auth.example.org/"}}',
      }),
    );
  });
  afterAll(async () => {
    await app.close();
    await hs.close();
  });

  it('should accept the client document and keep the RTC foci and extra keys', async () => {
    const res = await app.inject({ url: '/.well-known/matrix/client' });
    const config = await AutoDiscovery.fromDiscoveryConfig(res.json<IClientWellKnown>());
    expect(config['m.homeserver']).toMatchObject({
      state: AutoDiscoveryAction.SUCCESS,
      base_url: hs.url,
    });
    expect(config['m.identity_server']).toMatchObject({
      state: AutoDiscoveryAction.SUCCESS,
      base_url: hs.url,
    });
    expect(config['org.matrix.msc4143.rtc_foci']).toEqual([
      { type: 'livekit', livekit_service_url: 'https://a.example.org/jwt' },
      { type: 'livekit', livekit_service_url: 'https://b.example.org' },
    ]);
    expect(config['io.element.e2ee']).toEqual({ default: true });
  });

  it('should be refused by the library when the homeserver is not a Matrix server', async () => {
    // A control: proves the check above is real, not a library that accepts anything.
    const res = await app.inject({ url: '/.well-known/matrix/client' });
    const doc = res.json<IClientWellKnown>();
    const broken = { ...doc, 'm.homeserver': { base_url: `${hs.url}/not-matrix` } };
    const config = await AutoDiscovery.fromDiscoveryConfig(broken);
    expect(config['m.homeserver'].state).not.toBe(AutoDiscoveryAction.SUCCESS);
  });
});

import { describe, expect, it } from 'vitest';

import {
  checkClientDocument,
  checkClientVersions,
  checkServerDocument,
  checkSupportDocument,
} from '../src/doctor/discovery-checks.ts';
import { CheckFailure, runCheck } from '../src/doctor/doctor-check.ts';
import {
  checkCors,
  checkFederationOpenId,
  checkTransports,
  federationOrigin,
} from '../src/doctor/routing-checks.ts';
import {
  CS,
  FAKE_DOMAIN,
  FAKE_FOCUS,
  FOUND,
  outcome,
  outcomeWithDeps,
  SESSION,
  TRANSPORTS,
  WK,
} from './doctor-fakes.ts';

describe('discovery checks', () => {
  it('should read the base URL and focus from the client document', async () => {
    const { result, ctx } = await outcome(checkClientDocument);
    expect(result.status).toBe('pass');
    expect(ctx.found).toMatchObject(FOUND);
  });

  it('should name a 404 and a 504 on the client document as routing problems', async () => {
    const notFound = await outcome(checkClientDocument, { [`GET ${WK}/client`]: { status: 404 } });
    expect(notFound.result.problem).toBe('well-known-404');
    const gateway = await outcome(checkClientDocument, {
      [`GET ${WK}/client`]: { status: 504, text: 'Gateway Timeout' },
    });
    expect(gateway.result).toMatchObject({ problem: 'well-known-504', status: 'fail' });
  });

  it('should refuse a client document that is not application/json or lacks the focus', async () => {
    const html = await outcome(checkClientDocument, {
      [`GET ${WK}/client`]: { text: '{}', headers: { 'content-type': 'text/html' } },
    });
    expect(html.result.problem).toBe('well-known-content-type');
    const noFocus = await outcome(checkClientDocument, {
      [`GET ${WK}/client`]: { json: { 'm.homeserver': { base_url: `https://${FAKE_DOMAIN}` } } },
    });
    expect(noFocus.result.problem).toBe('rtc-foci-missing');
  });

  it('should refuse an http:// base URL unless --insecure-http', async () => {
    const routes = {
      [`GET ${WK}/client`]: {
        json: {
          'm.homeserver': { base_url: 'http://192.168.1.10:8008' },
          'org.matrix.msc4143.rtc_foci': [{ type: 'livekit', livekit_service_url: FAKE_FOCUS }],
        },
      },
    };
    expect((await outcome(checkClientDocument, routes)).result.problem).toBe('base-url-not-https');
    const lan = await outcome(checkClientDocument, routes, {}, { insecureHttp: true });
    expect(lan.result.status).toBe('pass');
  });

  it('should report a missing server document as the 8448 fallback', async () => {
    expect((await outcome(checkServerDocument)).ctx.found.server).toBe(`${FAKE_DOMAIN}:443`);
    const missing = await outcome(checkServerDocument, { [`GET ${WK}/server`]: { status: 404 } });
    expect(missing.result.problem).toBe('server-well-known-missing');
  });

  it('should accept a missing support document but not a broken one', async () => {
    const missing = await outcome(checkSupportDocument, { [`GET ${WK}/support`]: { status: 404 } });
    expect(missing.result).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/optional/),
    });
    const broken = await outcome(checkSupportDocument, {
      [`GET ${WK}/support`]: { text: '<html>' },
    });
    expect(broken.result.problem).toBe('well-known-invalid');
  });

  it('should check /_matrix/client/versions at the base URL', async () => {
    expect((await outcome(checkClientVersions, {}, FOUND)).result.status).toBe('pass');
    const down = await outcome(
      checkClientVersions,
      { [`GET ${CS}/versions`]: { status: 502 } },
      FOUND,
    );
    expect(down.result.problem).toBe('homeserver-unreachable');
  });

  it('should name an unreachable domain with the network error', async () => {
    const result = await outcomeWithDeps(checkClientDocument, {
      fetch: () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          }),
        ),
    });
    expect(result).toMatchObject({
      problem: 'domain-unreachable',
      detail: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

describe('routing checks', () => {
  it('should pass CORS only with Access-Control-Allow-Origin everywhere and Authorization allowed', async () => {
    expect((await outcome(checkCors, {}, FOUND)).result.status).toBe('pass');
    const stripped = await outcome(
      checkCors,
      { [`GET ${WK}/client`]: { json: {}, headers: { 'access-control-allow-origin': '' } } },
      FOUND,
    );
    expect(stripped.result).toMatchObject({
      problem: 'cors-missing',
      detail: expect.stringMatching(/client/),
    });
  });

  it('should accept a 401 M_MISSING_TOKEN without a session and the focus with one', async () => {
    expect((await outcome(checkTransports, {}, FOUND)).result.status).toBe('pass');
    const withSession = await outcome(checkTransports, {}, { ...FOUND, session: SESSION });
    expect(withSession.result.status).toBe('pass');
    expect(withSession.ctx.found.transportFoci).toEqual([FAKE_FOCUS]);
  });

  it('should name an unrouted, an empty and a disagreeing transports endpoint', async () => {
    const found = { ...FOUND, session: SESSION };
    const unrouted = await outcome(
      checkTransports,
      { [`GET ${TRANSPORTS}`]: { status: 404, json: { errcode: 'M_UNRECOGNIZED' } } },
      found,
    );
    expect(unrouted.result.problem).toBe('transports-not-routed');
    const empty = await outcome(
      checkTransports,
      { [`GET ${TRANSPORTS}`]: { json: { rtc_transports: [] } } },
      found,
    );
    expect(empty.result.problem).toBe('transports-empty');
    const other = [{ type: 'livekit', livekit_service_url: 'https://other.example.org/jwt' }];
    const disagree = await outcome(
      checkTransports,
      { [`GET ${TRANSPORTS}`]: { json: { rtc_transports: other } } },
      found,
    );
    expect(disagree.result.problem).toBe('foci-disagree');
  });

  it('should resolve the federation origin like a server name (8448 without a port)', () => {
    expect(federationOrigin('hi.example.org')).toBe('https://hi.example.org:8448');
    expect(federationOrigin('hi.example.org:443')).toBe('https://hi.example.org:443');
    expect(federationOrigin('[2001:db8::1]')).toBe('https://[2001:db8::1]:8448');
  });

  it('should tell disabled federation from an unreachable federation port', async () => {
    const found = { server: `${FAKE_DOMAIN}:443` };
    expect((await outcome(checkFederationOpenId, {}, found)).result.status).toBe('pass');
    // URL origins drop the default port, so the fake's key has none.
    const route = `GET https://${FAKE_DOMAIN}/_matrix/federation/v1/openid/userinfo`;
    const disabled = await outcome(
      checkFederationOpenId,
      {
        [route]: {
          status: 403,
          json: { errcode: 'M_FORBIDDEN', error: 'Federation is disabled.' },
        },
      },
      found,
    );
    expect(disabled.result.problem).toBe('federation-disabled');
    const unreachable = await outcomeWithDeps(checkFederationOpenId, {
      fetch: () => Promise.reject(new DOMException('t', 'TimeoutError')),
    });
    expect(unreachable).toMatchObject({
      problem: 'federation-unreachable',
      detail: expect.stringMatching(/:8448.*no answer in time/),
    });
  });
});

describe('runCheck', () => {
  it('should turn a CheckFailure into its problem and any other error into "unexpected"', async () => {
    const failure = await runCheck('a', 'A', () =>
      Promise.reject(new CheckFailure('cors-missing', 'x')),
    );
    expect(failure).toMatchObject({ status: 'fail', problem: 'cors-missing', detail: 'x' });
    const bug = await runCheck('b', 'B', () => Promise.reject(new Error('boom')));
    expect(bug).toMatchObject({ status: 'fail', problem: 'unexpected', detail: 'boom' });
  });
});

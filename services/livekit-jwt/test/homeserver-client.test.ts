import { createSelfSignedCertificate } from '@rtc-sidecars/test-harness';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHomeserverClient } from '../src/delayed-leave/homeserver-client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

// A loopback homeserver: plain HTTP for the client-server API (reached through an override,
// as in a compose network), and self-signed HTTPS serving `.well-known/matrix/client`.
describe('createHomeserverClient', () => {
  const requests: { method: string; url: string; body: string; type: string | undefined }[] = [];
  let answer: Handler = (_req, res) => res.writeHead(200).end('{}');
  let csApi: Server;
  let wellKnown: Server;
  let csApiUrl = '';
  let wellKnownName = '';

  beforeAll(async () => {
    csApi = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          type: req.headers['content-type'],
        });
        answer(req, res);
      });
    });
    csApiUrl = `http://127.0.0.1:${await listen(csApi)}/prefix`;
    wellKnown = createHttpsServer(
      await createSelfSignedCertificate({ ips: ['127.0.0.1'] }),
      (req, res) => {
        if (req.url === '/.well-known/matrix/client') {
          res.end(JSON.stringify({ 'm.homeserver': { base_url: `${csApiUrl}/` } }));
        } else res.writeHead(404).end();
      },
    );
    wellKnownName = `127.0.0.1:${await listen(wellKnown)}`;
  });
  afterAll(async () => {
    await Promise.all([csApi, wellKnown].map((s) => new Promise((r) => s.close(r))));
  });

  it('should POST {} to the MSC4140 restart and send endpoints with the delay ID escaped', async () => {
    const client = createHomeserverClient({
      overrides: new Map([['example.org', csApiUrl]]),
      allowPrivate: false,
      insecureSkipVerifyTls: false,
    });
    requests.length = 0;
    answer = (_req, res) => res.writeHead(200).end('{}');
    const target = await client.resolveCsApi('example.org');
    expect(target).toEqual({ baseUrl: csApiUrl, trusted: true });
    expect(await client.call(target!, 'syd/a b', 'restart')).toEqual({ outcome: 'ok' });
    expect(await client.call(target!, 'syd/a b', 'send')).toEqual({ outcome: 'ok' });
    expect(requests).toEqual([
      {
        method: 'POST',
        url: '/prefix/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd%2Fa%20b/restart',
        body: '{}',
        type: 'application/json',
      },
      {
        method: 'POST',
        url: '/prefix/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd%2Fa%20b/send',
        body: '{}',
        type: 'application/json',
      },
    ]);
    await client.close();
  });

  it('should classify 404 and 409, 429 with retry_after_ms or Retry-After, and 500', async () => {
    const NOW = Date.parse('Fri, 27 Nov 2026 12:00:00 GMT');
    const client = createHomeserverClient({
      overrides: new Map(),
      allowPrivate: false,
      insecureSkipVerifyTls: false,
      now: () => NOW,
    });
    const target = { baseUrl: csApiUrl, trusted: true };
    const cases: [Handler, unknown][] = [
      [(_q, s) => s.writeHead(404).end('{"errcode":"M_NOT_FOUND"}'), { outcome: 'not_found' }],
      [(_q, s) => s.writeHead(409).end('{"errcode":"M_UNKNOWN"}'), { outcome: 'not_found' }],
      [
        (_q, s) => s.writeHead(429).end('{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":2500}'),
        // Rounded up to whole seconds, as the reference does.
        { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 3000 },
      ],
      [
        (_q, s) => s.writeHead(429, { 'retry-after': 'Fri, 27 Nov 2026 12:00:07 GMT' }).end(),
        { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 7000 },
      ],
      [
        (_q, s) => s.writeHead(429, { 'retry-after': '3' }).end(),
        { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 3000 },
      ],
      [(_q, s) => s.writeHead(500).end(), { outcome: 'retry', reason: 'HTTP 500' }],
      [(_q, s) => s.writeHead(204).end(), { outcome: 'ok' }],
    ];
    for (const [handler, expected] of cases) {
      answer = handler;
      expect(await client.call(target, 'syd_x', 'send')).toEqual(expected);
    }
    await client.close();
  });

  it('should discover the client-server API through .well-known/matrix/client', async () => {
    const client = createHomeserverClient({
      overrides: new Map(),
      allowPrivate: true,
      insecureSkipVerifyTls: true,
    });
    expect(await client.resolveCsApi(wellKnownName)).toEqual({
      baseUrl: csApiUrl,
      trusted: false,
    });
    expect(await client.resolveCsApi('127.0.0.1:1')).toBeUndefined();
    await client.close();
  });

  it('should refuse discovered addresses that are private, under the SSRF guard', async () => {
    const client = createHomeserverClient({
      overrides: new Map(),
      allowPrivate: false,
      insecureSkipVerifyTls: true,
    });
    expect(await client.resolveCsApi(wellKnownName)).toBeUndefined();
    // A discovered (untrusted) URL pointing at loopback is refused at connect time too.
    requests.length = 0;
    const result = await client.call({ baseUrl: csApiUrl, trusted: false }, 'syd_x', 'send');
    expect(result).toMatchObject({ outcome: 'retry' });
    expect(requests).toEqual([]);
    await client.close();
  });
});

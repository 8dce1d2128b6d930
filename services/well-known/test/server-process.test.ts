import { join } from 'node:path';
import { freePort, httpReady, repoRoot, startProcess } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHomeserver, startFakeHomeserver } from './fake-homeserver.ts';

const server = join(repoRoot, 'services', 'well-known', 'src', 'server.ts');
const args = ['--conditions=source', server];

describe('well-known server process', () => {
  let hs: FakeHomeserver;
  beforeAll(async () => {
    hs = await startFakeHomeserver();
  });
  afterAll(async () => {
    await hs.close();
  });

  async function start(env: Record<string, string> = {}) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = await startProcess(process.execPath, args, {
      env: {
        WELL_KNOWN_BIND: `127.0.0.1:${port}`,
        WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
        WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://matrix.example.org/livekit-jwt',
        WELL_KNOWN_HOMESERVER_INTERNAL_URL: hs.url,
        ...env,
      },
      ready: () => httpReady(`${base}/healthz`),
    });
    return { proc, base };
  }

  it('should serve discovery from the environment and exit 0 on SIGTERM', async () => {
    const { proc, base } = await start();
    const res = await fetch(`${base}/.well-known/matrix/client`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      'm.homeserver': { base_url: 'https://matrix.example.org' },
      'org.matrix.msc4143.rtc_foci': [
        { type: 'livekit', livekit_service_url: 'https://matrix.example.org/livekit-jwt' },
      ],
    });
    // A request Node's parser refuses still gets a Matrix error with CORS, and the process lives.
    const { connect } = await import('node:net');
    const oversized = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => {
        socket.end(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let out = '';
      socket.on('data', (b: Buffer) => (out += b.toString()));
      socket.on('close', () => {
        resolve(out);
      });
    });
    expect(oversized).toMatch(/^HTTP\/1\.1 431 /);
    expect(oversized).toContain('access-control-allow-origin: *');
    expect(oversized).toContain('"errcode":"M_UNKNOWN"');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ errcode: 'M_UNRECOGNIZED' });
    expect(await proc.stop()).toBe(0);
    expect(proc.output()).toContain('"msg":"stopped"');
  });

  it('should let an in-flight request finish after SIGTERM', async () => {
    const { proc, base } = await start();
    const inFlight = fetch(`${base}/_matrix/client/v1/rtc/transports`, {
      headers: { authorization: 'Bearer slow-1' },
    });
    // The fake homeserver holds whoami for 600 ms; signal while it does.
    await expect.poll(() => hs.whoamiCalls.length).toBeGreaterThan(0);
    const code = proc.stop();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('rtc_transports');
    expect(await code).toBe(0);
  });

  it('should exit non-zero before listening, naming each bad variable', async () => {
    const port = await freePort();
    const proc = await startProcess(process.execPath, args, {
      env: {
        WELL_KNOWN_BIND: `127.0.0.1:${port}`,
        WELL_KNOWN_HOMESERVER_BASE_URL: 'http://matrix.example.org',
        WELL_KNOWN_SERVER: 'not a server name',
        WELL_KNOWN_SUPPORT_CONTACTS: '[]',
        WELL_KNOWN_CACHE_MAX_AGE: 'soon',
      },
    });
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    for (const variable of [
      'WELL_KNOWN_HOMESERVER_BASE_URL',
      'WELL_KNOWN_SERVER',
      'WELL_KNOWN_SUPPORT_CONTACTS',
      'WELL_KNOWN_CACHE_MAX_AGE',
    ]) {
      expect(out).toContain(variable);
    }
    expect(out).not.toMatch(/listening/i);
  });

  it('should exit non-zero when the required base URL is missing', async () => {
    const proc = await startProcess(process.execPath, args, {
      env: { WELL_KNOWN_HOMESERVER_BASE_URL: '' },
    });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain('WELL_KNOWN_HOMESERVER_BASE_URL: is required but not set');
  });
});

import { fileURLToPath } from 'node:url';
import { freePort, httpReady, startProcess } from '@rtc-sidecars/test-harness';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/slow-server.ts', import.meta.url));

describe('serve', () => {
  it('should finish an in-flight request after SIGTERM, then exit 0', async () => {
    const port = await freePort();
    const proc = await startProcess(process.execPath, ['--conditions=source', fixture], {
      env: { PORT: String(port), SLOW_MS: '800' },
      ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
    });
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
    // Signal only once the request has reached the handler.
    await expect.poll(() => proc.output()).toContain('slow request received');
    const code = await proc.stop(5000);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(code).toBe(0);
    expect(proc.output()).toContain('shutting down after in-flight requests');
  });
});

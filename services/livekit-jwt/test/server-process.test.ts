import { freePort, httpReady, startProcess } from '@rtc-sidecars/test-harness';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const serviceDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = ['--conditions=source', 'src/server.ts'];

/** Runs the service with `vars` until it exits by itself; its exit code and its output. */
async function runToExit(
  vars: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, {
    cwd: serviceDir,
    env: { ...process.env, ...cleanEnv(vars) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // 'close', not 'exit': only then has all of its output been read.
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

/** Environment with no inherited LIVEKIT_* variables, so each test says exactly what is set. */
function cleanEnv(vars: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) if (name.startsWith('LIVEKIT_')) env[name] = '';
  return { ...env, ...vars };
}

describe('livekit-jwt as a process', () => {
  it('should serve /healthz without an SFU or homeserver and exit 0 on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = await startProcess(process.execPath, args, {
      cwd: serviceDir,
      env: cleanEnv({
        // Nothing listens on port 9: the service must not need the SFU to start.
        LIVEKIT_URL: 'ws://127.0.0.1:9',
        LIVEKIT_KEY: 'devkey',
        LIVEKIT_SECRET: 'devsecret',
        LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
      }),
      ready: () => httpReady(`${base}/healthz`),
    });
    try {
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('');
      const token = await fetch(`${base}/get_token`, { method: 'POST', body: '{}' });
      expect(token.status).toBe(400);
      expect(token.headers.get('access-control-allow-origin')).toBe('*');
      // The short upstream test secret starts the service, with a loud warning (read from its
      // stdout pipe, which may lag behind the HTTP answers).
      await expect
        .poll(() => proc.output())
        .toMatch(/9 characters; LiveKit recommends at least 32/);
      expect(proc.output()).not.toContain('devsecret');
    } finally {
      expect(await proc.stop()).toBe(0);
    }
    expect(proc.output()).toMatch(/stopped/);
  });

  it('should exit non-zero naming every bad variable', async () => {
    const { code, stderr } = await runToExit({
      LIVEKIT_KEY: 'devkey',
      LIVEKIT_JWT_BIND: '127.0.0.1:8080',
      LIVEKIT_JWT_PORT: '8080',
      LIVEKIT_JWT_RATE_LIMIT: 'lots',
    });
    expect(code).toBe(1);
    for (const name of [
      'LIVEKIT_URL',
      'LIVEKIT_FULL_ACCESS_HOMESERVERS',
      'LIVEKIT_SECRET',
      'LIVEKIT_JWT_BIND',
      'LIVEKIT_JWT_RATE_LIMIT',
    ]) {
      expect(stderr).toContain(name);
    }
  });

  it('should exit 1 naming LIVEKIT_REDIS_URL, not its password, when Redis is unreachable', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runToExit({
      LIVEKIT_URL: 'ws://127.0.0.1:9',
      LIVEKIT_KEY: 'devkey',
      LIVEKIT_SECRET: 'devsecret-devsecret-devsecret-devsecret',
      LIVEKIT_FULL_ACCESS_HOMESERVERS: '*',
      LIVEKIT_JWT_BIND: `127.0.0.1:${await freePort()}`,
      LIVEKIT_REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/0`,
    });
    const output = stdout + stderr;
    expect(code).toBe(1);
    expect(output).toMatch(/Could not connect Redis store \(LIVEKIT_REDIS_URL\): .*ECONNREFUSED/);
    expect(output).not.toContain('hunter2');
  });
});

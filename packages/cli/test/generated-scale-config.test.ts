import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

import {
  freePort,
  onLoopback,
  requireTool,
  startLivekitFrom,
  startNodeService,
  startProcess,
  tcpOpen,
} from '@rtc-sidecars/test-harness';
import { RoomServiceClient, type WebhookEvent, WebhookReceiver } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';
import { dockerComposeConfigIn } from './compose-validation.ts';

// The livekit.yaml of `init --scale` in the real livekit-server, and livekit-jwt with the
// environment compose gives its replicas, against a real redis-server started the way
// compose.scale.yaml starts it (password, appendonly). Only addresses and ports change; the
// Redis password, keys and webhook key are used as generated.

let dir: string;
let env: Record<string, string>;
let redisPort: number;
let webhooks: Server;
const events: WebhookEvent[] = [];
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  dir = tempDir();
  expect((await initDeployment(dir, '--scale')).code).toBe(0);
  env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
  redisPort = await freePort();
  const data = tempDir('rtc-redis-');
  const redis = await startProcess(
    requireTool('redis-server'),
    ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', data, '--save', ''].concat([
      '--appendonly',
      'yes',
      '--requirepass',
      env.REDIS_PASSWORD!,
    ]),
    { ready: () => tcpOpen(redisPort) },
  );
  stops.push(async () => {
    await redis.stop();
    removeDir(data);
  });
  // Stands in for livekit-jwt's /sfu_webhook: checks the signature the way the service does.
  const receiver = new WebhookReceiver(env.LIVEKIT_KEY!, env.LIVEKIT_SECRET!);
  webhooks = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      void receiver.receive(body, request.headers.authorization).then((e) => events.push(e));
      response.end();
    });
  });
  await new Promise<void>((resolve) => webhooks.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => webhooks.close(resolve)));
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  removeDir(dir);
});

/**
 * The generated livekit.yaml bound to loopback (the harness's `onLoopback`), with Redis at the
 * local server; `password` replaces the generated Redis password only to show a wrong one fails.
 */
async function startNode(password: string): Promise<{ url: string }> {
  const generated = readFileSync(join(dir, 'livekit.yaml'), 'utf8');
  const config: Parsed = YAML.parse(generated);
  config.redis.password = password;
  // Every node reads this one file, so every node hands out the deployment's coturn.
  expect(config.rtc.turn_servers).toEqual(
    ['udp', 'tcp'].map((protocol) => ({
      host: env.TURN_HOST,
      port: Number(env.TURN_PORT),
      protocol,
      secret: env.TURN_SECRET,
      ttl: 3600,
    })),
  );
  const { port } = webhooks.address() as AddressInfo;
  const node = await startLivekitFrom(
    (ports) =>
      onLoopback(YAML.stringify(config), {
        kind: 'livekit.yaml',
        ...ports,
        webhookUrls: [`http://127.0.0.1:${port}/sfu_webhook`],
        redisAddress: `127.0.0.1:${redisPort}`,
      }),
    5,
  );
  stops.push(() => node.stop());
  return { url: node.httpUrl };
}

/** One Redis command through redis-cli, authenticated with the generated password. */
function redisCli(...args: string[]): string {
  // redis-cli ships beside redis-server (Debian's redis-tools).
  const binary = join(dirname(requireTool('redis-server')), 'redis-cli');
  const result = spawnSync(binary, ['-p', String(redisPort), ...args], {
    encoding: 'utf8',
    env: { REDISCLI_AUTH: env.REDIS_PASSWORD },
  });
  return result.stdout.trim();
}

describe('generated scale mode: LiveKit and livekit-jwt on one Redis', () => {
  it(
    'should run LiveKit multi-node on the password-protected Redis and post signed webhooks',
    { timeout: 60_000 },
    async () => {
      const { url } = await startNode(env.REDIS_PASSWORD!);
      const rooms = new RoomServiceClient(url, env.LIVEKIT_KEY, env.LIVEKIT_SECRET);
      await rooms.createRoom({ name: 'scale-room' });
      // LiveKit keeps its node registry and rooms in Redis (database 0) in multi-node mode.
      expect(Number(redisCli('HLEN', 'nodes'))).toBeGreaterThanOrEqual(1);
      expect(redisCli('HEXISTS', 'rooms', 'scale-room')).toBe('1');
      await expect
        .poll(() => events.map((e) => `${e.event} ${e.room?.name ?? ''}`), { timeout: 10_000 })
        .toContain('room_started scale-room');
    },
  );

  it('should not start with a Redis password other than the generated one', async () => {
    await expect(startNode('0'.repeat(64))).rejects.toThrow(
      /exited before it was ready[\s\S]*(WRONGPASS|NOAUTH|invalid username-password)/,
    );
  });

  it('should start livekit-jwt with the LIVEKIT_REDIS_URL of its replicas, on database 1', async () => {
    const config = dockerComposeConfigIn(dir, []);
    expect(config.status).toBe(0);
    const compose: Parsed = YAML.parse(config.stdout);
    const environment = compose.services['livekit-jwt'].environment as Record<string, string>;
    const local = (url: string): Record<string, string> => ({
      ...environment,
      LIVEKIT_REDIS_URL: url.replace('@redis:6379/', `@127.0.0.1:${redisPort}/`),
    });
    const jwt = await startNodeService({
      name: 'livekit-jwt',
      env: (port) => ({
        ...local(environment.LIVEKIT_REDIS_URL!),
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
      }),
    });
    stops.push(() => jwt.stop());
    expect(redisCli('CLIENT', 'LIST')).toMatch(/ db=1 /);
    // The same URL with another password: the service refuses to start, naming the variable.
    const wrong = environment.LIVEKIT_REDIS_URL!.replace(env.REDIS_PASSWORD!, 'f'.repeat(64));
    await expect(
      startNodeService({
        name: 'livekit-jwt',
        env: (port) => ({ ...local(wrong), LIVEKIT_JWT_BIND: `127.0.0.1:${port}` }),
      }),
    ).rejects.toThrow(/exited before it was ready[\s\S]*LIVEKIT_REDIS_URL/);
  });
});

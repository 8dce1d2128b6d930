import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createTurnCredentials, TurnClient } from '@rtc-sidecars/turn';
import { onLoopback, startCoturn, startLivekitFrom } from '@rtc-sidecars/test-harness';
import { RoomServiceClient } from 'livekit-server-sdk';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { initDeployment, type Parsed, removeDir, tempDir } from './cli-harness.ts';

// The generated livekit.yaml and turnserver.conf run in the real livekit-server and coturn.
// Only what binds them to this machine changes, in the harness's one `onLoopback` rewrite
// (addresses and ports on loopback, files in a private folder); keys, secrets and every other
// setting are used as generated.

let dir: string;
let env: Record<string, string>;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dir = tempDir();
  const run = await initDeployment(dir);
  expect(run.code).toBe(0);
  env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  removeDir(dir);
});

describe('generated livekit.yaml', () => {
  it(
    'should run in livekit-server and accept the key and secret livekit-jwt signs with',
    { timeout: 60_000 },
    async () => {
      const generated = readFileSync(join(dir, 'livekit.yaml'), 'utf8');
      const config = YAML.parse(generated);
      const lk = await startLivekitFrom((ports) =>
        onLoopback(generated, { kind: 'livekit.yaml', ...ports }),
      );
      cleanups.push(() => lk.stop());
      const url = lk.httpUrl;
      const good = new RoomServiceClient(url, env.LIVEKIT_KEY, env.LIVEKIT_SECRET);
      const room = await good.createRoom({ name: 'generated-config' });
      expect(room.name).toBe('generated-config');
      const bad = new RoomServiceClient(url, env.LIVEKIT_KEY, `${env.LIVEKIT_SECRET!}x`);
      await expect(bad.listRooms()).rejects.toThrow();
      expect(config.room.auto_create).toBe(false);
    },
  );
});

describe('generated turnserver.conf', () => {
  it(
    "should run in coturn and allocate with credentials from the homeserver's TURN secret",
    { timeout: 60_000 },
    async () => {
      const generated = readFileSync(join(dir, 'turnserver.conf'), 'utf8');
      const coturn = await startCoturn((layout) =>
        onLoopback(generated, { kind: 'turnserver.conf', ...layout }),
      );
      cleanups.push(() => coturn.stop());
      // The secret the homeserver hands out credentials with, read from its own config.
      const toml = parseToml(readFileSync(join(dir, 'continuwuity.toml'), 'utf8')) as Parsed;
      const uri = `turn:127.0.0.1:${coturn.port}?transport=udp`;
      const allocate = async (secret: string) => {
        const creds = createTurnCredentials({
          secret,
          user: '@alice:hi.example.org',
          ttlSeconds: 600,
          now: Date.now(),
        });
        const client = await TurnClient.connect({
          uri,
          username: creds.username,
          password: creds.password,
        });
        try {
          return await client.allocate();
        } finally {
          await client.close();
        }
      };
      expect(toml.global.turn_secret_file).toBe('/etc/continuwuity/secrets/turn_secret');
      const allocation = await allocate(readFileSync(join(dir, 'secrets/turn_secret'), 'utf8'));
      expect(allocation.relayed.port).toBeGreaterThanOrEqual(coturn.relayPorts.min);
      expect(allocation.relayed.port).toBeLessThanOrEqual(coturn.relayPorts.max);
      await expect(allocate('0'.repeat(64))).rejects.toThrow(/401|Unauthori[sz]ed/i);
    },
  );
});

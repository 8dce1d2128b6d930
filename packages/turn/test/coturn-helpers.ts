import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnClient } from '../src/turn-client.ts';
import { createTurnCredentials, type TurnCredentials } from '../src/turn-credentials.ts';
import { TurnError } from '../src/turn-error.ts';
import type { CoturnInstance } from './coturn-instance.ts';

/** A fresh shared secret, as `rtc-sidecars init` would make one. */
export const newSecret = (): string => randomBytes(24).toString('hex');

/** A credential valid for ten minutes from now. */
export function credentials(user: string, secret: string, nowMs = Date.now()): TurnCredentials {
  return createTurnCredentials({ secret, user, ttlSeconds: 600, now: nowMs });
}

/** How long a log line may take to reach coturn's log file on a loaded machine. */
const LOG_WAIT_MS = 10_000;

/** coturn writes its log from its own threads: give the line a moment to reach the file. */
export async function logged(coturn: CoturnInstance, text: string): Promise<string> {
  const deadline = Date.now() + LOG_WAIT_MS;
  let log = await coturn.log();
  while (!log.includes(text) && Date.now() < deadline) {
    await sleep(50);
    log = await coturn.log();
  }
  return log;
}

/** The error an Allocate with these credentials fails with; throws if it succeeds. */
export async function allocationError(
  uri: string,
  username: string,
  password: string,
): Promise<TurnError> {
  const client = await TurnClient.connect({ uri, username, password });
  try {
    await client.allocate();
  } catch (err) {
    if (err instanceof TurnError) return err;
    throw err;
  } finally {
    await client.close();
  }
  throw new Error('Allocate succeeded where it should have failed');
}

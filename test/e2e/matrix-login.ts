import { createClient, type MatrixClient } from 'matrix-js-sdk';
import type { RegisteredUser } from '@rtc-sidecars/test-harness';

/** A matrix-js-sdk logger that keeps warnings and errors and drops the SDK's debug chatter. */
const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (...msg: unknown[]) => {
    console.warn('[matrix-js-sdk]', ...msg);
  },
  error: (...msg: unknown[]) => {
    console.error('[matrix-js-sdk]', ...msg);
  },
  getChild: () => quietLogger,
};

/** A logged-in matrix-js-sdk client for a user registered on the test homeserver. */
export interface LoggedIn {
  readonly client: MatrixClient;
  readonly userId: string;
  readonly deviceId: string;
  readonly accessToken: string;
}

/**
 * Logs in with `m.login.password` as Element does (a new device per login) and returns a client
 * bound to the resulting access token. The client is not synced: every call in the suite is a
 * plain request, which keeps the run quick and deterministic.
 */
export async function loginWithPassword(
  baseUrl: string,
  user: RegisteredUser,
  fetchFn: typeof fetch = fetch,
): Promise<LoggedIn> {
  const anonymous = createClient({ baseUrl, fetchFn, logger: quietLogger });
  const res = await anonymous.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.localpart },
    password: user.password,
    initial_device_display_name: 'rtc-sidecars e2e',
  });
  anonymous.stopClient();
  const client = createClient({
    baseUrl,
    userId: res.user_id,
    deviceId: res.device_id,
    accessToken: res.access_token,
    fetchFn,
    logger: quietLogger,
  });
  return {
    client,
    userId: res.user_id,
    deviceId: res.device_id,
    accessToken: res.access_token,
  };
}

/** A matrix-js-sdk client holding an arbitrary access token, e.g. for a bad-token check. */
export function clientWithToken(
  baseUrl: string,
  accessToken: string,
  fetchFn: typeof fetch = fetch,
): MatrixClient {
  return createClient({ baseUrl, accessToken, fetchFn, logger: quietLogger });
}

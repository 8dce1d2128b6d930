import { describe, expect, it } from 'vitest';

import { runCheck } from '../src/doctor/doctor-check.ts';
import { checkPresence } from '../src/doctor/presence-check.ts';
import { FAKE_DOMAIN, FAKE_USER, fakeContext, type Routes, SESSION } from './doctor-fakes.ts';

const URL_KEY = `https://${FAKE_DOMAIN}/_matrix/client/v3/presence/${encodeURIComponent(FAKE_USER)}/status`;

interface PresenceState {
  presence: string;
  status_msg?: string;
}

/**
 * A homeserver's presence endpoint: keeps what is PUT unless `drops`, and answers the first
 * `limited` PUTs with 429 and `retry_after_ms`, as Synapse's presence rate limit does.
 */
function presenceRoutes(
  state: PresenceState,
  options: { drops?: boolean; limited?: number; puts?: PresenceState[] } = {},
): Routes {
  let limited = options.limited ?? 0;
  return {
    [`GET ${URL_KEY}`]: () => ({ json: { ...state } }),
    [`PUT ${URL_KEY}`]: (init) => {
      if (limited > 0) {
        limited -= 1;
        return { status: 429, json: { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 250 } };
      }
      const body = JSON.parse(init.body as string) as PresenceState;
      options.puts?.push(body);
      if (options.drops !== true) Object.assign(state, body);
      return { json: {} };
    },
  };
}

describe('checkPresence', () => {
  it('should set a status message, read it back and restore the old one', async () => {
    const state: PresenceState = { presence: 'unavailable', status_msg: 'on holiday' };
    const puts: PresenceState[] = [];
    const ctx = fakeContext(presenceRoutes(state, { puts }), { session: SESSION });
    const result = await runCheck('presence', 'p', () => checkPresence(ctx));
    expect(result.status).toBe('pass');
    expect(puts[0]).toEqual({ presence: 'online', status_msg: 'rtc-sidecars doctor n0nce' });
    expect(state).toEqual({ presence: 'unavailable', status_msg: 'on holiday' });
  });

  it('should wait as a 429 asks and still restore the old status', async () => {
    const state: PresenceState = { presence: 'online', status_msg: 'here' };
    const waits: number[] = [];
    const ctx = fakeContext(
      presenceRoutes(state, { limited: 1 }),
      { session: SESSION },
      { deps: { sleep: (ms) => Promise.resolve(void waits.push(ms)) } },
    );
    expect((await runCheck('presence', 'p', () => checkPresence(ctx))).status).toBe('pass');
    expect(waits).toEqual([250]);
    expect(state.status_msg).toBe('here');
  });

  it('should name disabled presence when the homeserver accepts and drops the update', async () => {
    const state: PresenceState = { presence: 'offline' };
    const puts: PresenceState[] = [];
    const ctx = fakeContext(presenceRoutes(state, { drops: true, puts }), { session: SESSION });
    const result = await runCheck('presence', 'p', () => checkPresence(ctx));
    expect(result).toMatchObject({ status: 'fail', problem: 'presence-disabled' });
    // Nothing changed, so nothing is restored (no second, rate-limited update).
    expect(puts).toHaveLength(1);
  });

  it('should name disabled presence when the homeserver refuses it (403)', async () => {
    const routes: Routes = {
      [`GET ${URL_KEY}`]: { json: { presence: 'offline' } },
      [`PUT ${URL_KEY}`]: {
        status: 403,
        json: { errcode: 'M_FORBIDDEN', error: 'Presence is disabled' },
      },
    };
    const result = await runCheck('presence', 'p', () =>
      checkPresence(fakeContext(routes, { session: SESSION })),
    );
    expect(result).toMatchObject({
      problem: 'presence-disabled',
      detail: expect.stringMatching(/set status: 403/),
    });
  });

  it('should be skipped without a session', async () => {
    const result = await runCheck('presence', 'p', () => checkPresence(fakeContext({})));
    expect(result.status).toBe('skip');
  });
});

import { type CheckOutcome, CheckFailure, pass, skip } from './doctor-check.ts';
import type { DoctorContext, Session } from './doctor-context.ts';
import { asObject, describeAnswer, type HttpAnswer, request, stringField } from './doctor-http.ts';
import { bearer, clientUrl, NO_CREDENTIALS } from './session-checks.ts';

interface Presence {
  readonly presence: string;
  readonly statusMsg: string | undefined;
}

function presenceProblem(answer: HttpAnswer): 'presence-disabled' | 'unexpected' {
  return answer.status === 403 || answer.status === 404 ? 'presence-disabled' : 'unexpected';
}

async function readPresence(ctx: DoctorContext, session: Session, url: string): Promise<Presence> {
  const answer = await request(ctx.deps.fetch, url, {
    headers: bearer(session),
    unreachable: 'homeserver-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const body = asObject(answer.json);
  if (answer.status !== 200 || body === undefined) {
    throw new CheckFailure(presenceProblem(answer), `GET presence: ${describeAnswer(answer)}`);
  }
  return {
    presence: stringField(body, 'presence') ?? 'online',
    statusMsg: stringField(body, 'status_msg'),
  };
}

/** Longest wait doctor accepts from a rate limit before it gives up on presence. */
export const MAX_RATE_LIMIT_WAIT_MS = 30_000;

/** How long a 429 answer asks to wait (`retry_after_ms`, else `Retry-After` seconds). */
export function retryAfterMs(answer: HttpAnswer): number {
  const fromBody = asObject(answer.json)?.retry_after_ms;
  if (typeof fromBody === 'number' && fromBody >= 0) return fromBody;
  const seconds = Number(answer.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
}

async function writePresence(
  ctx: DoctorContext,
  session: Session,
  url: string,
  value: Presence,
  what: string,
): Promise<void> {
  const put = (): Promise<HttpAnswer> =>
    request(ctx.deps.fetch, url, {
      method: 'PUT',
      headers: bearer(session),
      body: { presence: value.presence, status_msg: value.statusMsg ?? '' },
      unreachable: 'homeserver-unreachable',
      timeoutMs: ctx.settings.timeoutMs,
    });
  let answer = await put();
  // Homeservers rate-limit presence updates (Synapse: one per 10 s by default); the old status
  // must still be restored, so wait as asked, once.
  if (answer.status === 429 && retryAfterMs(answer) <= MAX_RATE_LIMIT_WAIT_MS) {
    await ctx.deps.sleep(retryAfterMs(answer));
    answer = await put();
  }
  if (answer.status !== 200) {
    throw new CheckFailure(presenceProblem(answer), `${what}: ${describeAnswer(answer)}`);
  }
}

/**
 * Presence, the seed deployment's original failure: set a status message, read it back, then
 * restore the previous presence and message so the operator's account is left as it was.
 */
export async function checkPresence(ctx: DoctorContext): Promise<CheckOutcome> {
  const session = ctx.found.session;
  if (session === undefined) return skip(NO_CREDENTIALS);
  const url = clientUrl(ctx, `/presence/${encodeURIComponent(session.userId)}/status`);
  const before = await readPresence(ctx, session, url);
  const probe = `rtc-sidecars doctor ${ctx.deps.nonce()}`;
  await writePresence(ctx, session, url, { presence: 'online', statusMsg: probe }, 'set status');
  let after: Presence;
  try {
    after = await readPresence(ctx, session, url);
  } catch (error) {
    await writePresence(ctx, session, url, before, 'restore status');
    throw error;
  }
  // A homeserver with presence off answers 200 and keeps nothing: then there is nothing to
  // restore either (and no rate-limited second update to wait for).
  const changed = after.presence !== before.presence || after.statusMsg !== before.statusMsg;
  if (changed) await writePresence(ctx, session, url, before, 'restore status');
  if (after.statusMsg !== probe) {
    const shown = after.statusMsg === undefined ? 'no message' : `"${after.statusMsg}"`;
    const detail = `set "${probe}" (online), read back ${after.presence} with ${shown}`;
    if (after.statusMsg === undefined && after.presence !== 'online') {
      throw new CheckFailure('presence-disabled', detail);
    }
    throw new CheckFailure('presence-not-stored', detail);
  }
  return pass(`status message set, read back and restored (was ${before.presence})`);
}

import {
  checkClientDocument,
  checkClientVersions,
  checkServerDocument,
  checkSupportDocument,
} from './discovery-checks.ts';
import { type CheckOutcome, type CheckResult, runCheck, skip } from './doctor-check.ts';
import type { DoctorContext, DoctorDeps, DoctorSettings } from './doctor-context.ts';
import { checkGetToken, checkJwtHealth, checkLivekitJoin } from './livekit-checks.ts';
import { checkPresence } from './presence-check.ts';
import { checkCors, checkFederationOpenId, checkTransports } from './routing-checks.ts';
import { checkLogin, logout } from './session-checks.ts';
import { checkLivekitTurn, checkTurnRelayUri, checkTurnServer } from './turn-checks.ts';

/** Called around each check, for a progress indicator. */
export interface DoctorProgress {
  readonly start?: (title: string) => void;
  readonly done?: (result: CheckResult) => void;
}

interface Step {
  readonly id: string;
  readonly title: string;
  readonly check: (ctx: DoctorContext) => Promise<CheckOutcome>;
}

/** Every check in the order a client meets them; the TURN relay lines are added per URI. */
export const STEPS: readonly Step[] = [
  { id: 'well-known-client', title: 'well-known client document', check: checkClientDocument },
  { id: 'well-known-server', title: 'well-known server document', check: checkServerDocument },
  { id: 'well-known-support', title: 'well-known support document', check: checkSupportDocument },
  { id: 'cors', title: 'CORS for browsers', check: checkCors },
  {
    id: 'client-versions',
    title: 'homeserver /_matrix/client/versions',
    check: checkClientVersions,
  },
  { id: 'login', title: 'Matrix session', check: checkLogin },
  { id: 'transports', title: 'MSC4143 rtc/transports', check: checkTransports },
  { id: 'federation-openid', title: 'federation OpenID route', check: checkFederationOpenId },
  { id: 'livekit-jwt-health', title: 'livekit-jwt /healthz', check: checkJwtHealth },
  { id: 'get-token', title: 'OpenID -> livekit-jwt /get_token', check: checkGetToken },
  { id: 'livekit-join', title: 'LiveKit accepts the token (join)', check: checkLivekitJoin },
  { id: 'livekit-turn', title: 'LiveKit offers TURN', check: checkLivekitTurn },
  { id: 'turn-server', title: 'homeserver /voip/turnServer', check: checkTurnServer },
];

const PRESENCE: Step = { id: 'presence', title: 'presence status message', check: checkPresence };

/** Every check id, for `--skip` and scripts reading `--json`. */
export const CHECK_IDS: readonly string[] = [...STEPS.map((s) => s.id), 'turn-relay', PRESENCE.id];

/** The whole report: every check's result and whether all passed. */
export interface DoctorReport {
  readonly domain: string;
  readonly results: readonly CheckResult[];
  /** True when no check failed (skipped checks do not fail the run). */
  readonly ok: boolean;
}

/**
 * Runs every check against a live deployment, one after the other (later checks use what
 * earlier ones found: base URL, focus, session, LiveKit token, TURN credentials), then logs out
 * the session doctor opened. Never throws for what a server does.
 */
export async function runDoctor(
  settings: DoctorSettings,
  deps: DoctorDeps,
  progress: DoctorProgress = {},
): Promise<DoctorReport> {
  const ctx: DoctorContext = { settings, deps, found: {} };
  const results: CheckResult[] = [];
  const run = async (step: Step): Promise<void> => {
    const skipped = settings.skip?.includes(step.id) === true;
    progress.start?.(step.title);
    const result = await runCheck(step.id, step.title, () =>
      skipped ? Promise.resolve(skip('skipped (--skip)')) : step.check(ctx),
    );
    results.push(result);
    progress.done?.(result);
  };
  try {
    for (const step of STEPS) await run(step);
    for (const uri of ctx.found.turn?.uris ?? []) {
      await run({
        id: 'turn-relay',
        title: `TURN relay ${uri}`,
        check: (c) => checkTurnRelayUri(c, uri),
      });
    }
    await run(PRESENCE);
  } finally {
    await logout(ctx);
  }
  return {
    domain: settings.domain,
    results,
    ok: results.every((r) => r.status !== 'fail'),
  };
}

import type { ProblemId } from './doctor-catalogue.ts';

/** What one check found. Checks never throw for what a server does; they return this. */
export type CheckOutcome =
  | { readonly status: 'pass'; readonly detail: string }
  | { readonly status: 'fail'; readonly detail: string; readonly problem: ProblemId }
  | { readonly status: 'skip'; readonly detail: string };

/** One line of the report: a check's outcome, its name and how long it took. */
export interface CheckResult {
  /** Stable identifier for scripts (`--json`), e.g. `well-known-client`. */
  readonly id: string;
  /** Human name, e.g. `well-known client document`. */
  readonly title: string;
  readonly status: CheckOutcome['status'];
  readonly detail: string;
  /** Wall-clock milliseconds the check took (0 when skipped). */
  readonly ms: number;
  readonly problem?: ProblemId;
}

/** A passing outcome. */
export function pass(detail: string): CheckOutcome {
  return { status: 'pass', detail };
}

/** A failing outcome naming the catalogue entry that explains it. */
export function fail(problem: ProblemId, detail: string): CheckOutcome {
  return { status: 'fail', detail, problem };
}

/** A check that could not run (no credentials, or an earlier check it needs failed). */
export function skip(detail: string): CheckOutcome {
  return { status: 'skip', detail };
}

/**
 * Thrown inside a check to stop it with a catalogued failure; {@link runCheck} turns it into a
 * `fail` outcome. Lets the steps of a check read top to bottom without nested error handling.
 */
export class CheckFailure extends Error {
  public readonly problem: ProblemId;

  public constructor(problem: ProblemId, detail: string) {
    super(detail);
    this.name = 'CheckFailure';
    this.problem = problem;
  }
}

/** Runs `check`, timing it; a {@link CheckFailure} or any other error becomes a `fail`. */
export async function runCheck(
  id: string,
  title: string,
  check: () => Promise<CheckOutcome>,
  now: () => number = performance.now.bind(performance),
): Promise<CheckResult> {
  const started = now();
  let outcome: CheckOutcome;
  try {
    outcome = await check();
  } catch (error) {
    outcome =
      error instanceof CheckFailure
        ? fail(error.problem, error.message)
        : fail('unexpected', error instanceof Error ? error.message : String(error));
  }
  const ms = outcome.status === 'skip' ? 0 : Math.round(now() - started);
  return {
    id,
    title,
    status: outcome.status,
    detail: outcome.detail,
    ms,
    ...(outcome.status === 'fail' ? { problem: outcome.problem } : {}),
  };
}

import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/**
 * Cases per property: a quick sample in the default run, `FUZZ_RUNS` (e.g. 10000 from
 * `pnpm fuzz`) for the long run.
 */
export const FUZZ_RUNS = runsFromEnv(process.env.FUZZ_RUNS);

/** How long one request may take before the test calls it a hang (not a timing assertion). */
export const HANG_GUARD_MS = 10_000;

/** vitest time limit for a property of `runs` cases: generous, since CI machines are shared. */
export function propertyTimeout(runs: number = FUZZ_RUNS): number {
  return 30_000 + runs * 20;
}

function runsFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 200;
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, not ${raw}`);
  return runs;
}

/** Counts cases and their durations per property, and prints a summary line. */
export class FuzzStats {
  public readonly name: string;
  #durations: number[] = [];
  readonly #statuses = new Map<number, number>();

  public constructor(name: string) {
    this.name = name;
  }

  public get cases(): number {
    return this.#durations.length;
  }

  public record(status: number, ms: number): void {
    this.#durations.push(ms);
    this.#statuses.set(status, (this.#statuses.get(status) ?? 0) + 1);
  }

  public summary(): string {
    const sorted = [...this.#durations].sort((a, b) => a - b);
    const at = (q: number): string =>
      (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2);
    const statuses = [...this.#statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    return `[fuzz] ${this.name}: ${this.cases} cases, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms; statuses ${statuses}`;
  }
}

/** `app.inject()` with a hang guard; records the case in `stats`. */
export async function injectGuarded(
  app: FastifyInstance,
  options: InjectOptions,
  stats: FuzzStats,
): Promise<LightMyRequestResponse> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${HANG_GUARD_MS} ms`));
    }, HANG_GUARD_MS);
  });
  try {
    const res = await Promise.race([app.inject(options), hang]);
    stats.record(res.statusCode, performance.now() - started);
    return res;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The wire rules every answer must keep: no 5xx, and every error is a Matrix error
 * `{"errcode":"M_…","error":"…"}` served as JSON (bodiless answers to HEAD excepted).
 */
export function expectMatrixAnswer(res: LightMyRequestResponse, method: string): void {
  const context = `${res.statusCode} ${res.headers['content-type'] ?? ''} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, context).toBeLessThan(500);
  expect(res.statusCode, context).toBeGreaterThanOrEqual(200);
  if (res.statusCode < 400 || method.toUpperCase() === 'HEAD') return;
  expect(String(res.headers['content-type']), context).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body.errcode, context).toMatch(/^M_[A-Z_]+$/);
  expect(typeof body.error, context).toBe('string');
}

/**
 * `fc.assert` with a readable failure: the counterexample and seed, with long runs of one
 * character (the huge headers and paths the generators make) shortened to `a×20000`.
 */
export async function assertProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  runs: number = FUZZ_RUNS,
): Promise<void> {
  const details = await fc.check(property, { numRuns: runs });
  if (!details.failed) return;
  const cause =
    details.errorInstance instanceof Error
      ? details.errorInstance.message
      : String(details.errorInstance);
  const report = `${fc.defaultReportMessage(details) ?? 'property failed'}\nCaused by: ${cause}`;
  throw new Error(
    report.replace(/(.)\1{40,}/gsu, (run: string, c: string) => `${c}×${run.length}`),
  );
}

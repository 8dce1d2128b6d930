import { describeProblem } from './doctor-catalogue.ts';
import type { CheckResult } from './doctor-check.ts';
import type { DoctorReport } from './run-doctor.ts';

const MARK = { pass: '✓', fail: '✗', skip: '-' } as const;

/** Counts of passed, failed and skipped checks. */
export function tally(report: DoctorReport): { passed: number; failed: number; skipped: number } {
  const count = (status: CheckResult['status']): number =>
    report.results.filter((r) => r.status === status).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip') };
}

/** Titles are padded to this width so the latencies line up (longer TURN URIs just push on). */
const TITLE_WIDTH = 36;

/**
 * The lines of one check: mark, title, latency and detail (no latency when skipped), and for a
 * failure the likely cause and the fix from the catalogue. A cause already printed for an
 * earlier check (`seen`) is referred to instead of repeated: when the domain does not answer,
 * every check fails for the same reason.
 */
export function formatResult(
  result: CheckResult,
  domain: string,
  seen: Set<string> = new Set(),
): string[] {
  const ms = result.status === 'skip' ? '' : `${result.ms} ms`;
  const lines = [
    `${MARK[result.status]} ${result.title.padEnd(TITLE_WIDTH)} ${ms.padStart(7)}  ${result.detail}`,
  ];
  if (result.problem !== undefined) {
    if (seen.has(result.problem)) {
      lines.push('    (same cause and fix as above)');
    } else {
      seen.add(result.problem);
      const { cause, fix } = describeProblem(result.problem, domain);
      lines.push(`    cause: ${cause}`, `    fix:   ${fix}`);
    }
  }
  return lines;
}

/** A printer for results as they arrive, remembering which causes it has already shown. */
export function resultPrinter(domain: string): (result: CheckResult) => string[] {
  const seen = new Set<string>();
  return (result) => formatResult(result, domain, seen);
}

/** The first line of the human report. */
export function reportHeader(domain: string): string[] {
  return [`rtc-sidecars doctor ${domain}`, ''];
}

/** The last line of the human report: the tally and the verdict. */
export function reportSummary(report: DoctorReport): string[] {
  const { passed, failed, skipped } = tally(report);
  const verdict = report.ok ? 'ready for calls' : 'not ready for calls';
  return ['', `${passed} passed, ${failed} failed, ${skipped} skipped: ${verdict}`];
}

/** The whole human report: header, one entry per check, summary. */
export function renderText(report: DoctorReport): string[] {
  return [
    ...reportHeader(report.domain),
    ...report.results.flatMap(resultPrinter(report.domain)),
    ...reportSummary(report),
  ];
}

/** The report as one JSON document for scripts; each failure carries `problem`, `cause`, `fix`. */
export function renderJson(report: DoctorReport): string {
  return JSON.stringify(
    {
      domain: report.domain,
      ok: report.ok,
      ...tally(report),
      checks: report.results.map((r) => ({
        ...r,
        ...(r.problem === undefined ? {} : describeProblem(r.problem, report.domain)),
      })),
    },
    null,
    2,
  );
}

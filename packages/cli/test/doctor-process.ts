import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

/** Output of one `rtc-sidecars` process. */
export interface DoctorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parts of `doctor --json` the tests read. */
export interface JsonReport {
  readonly ok: boolean;
  readonly checks: readonly {
    readonly id: string;
    readonly title: string;
    readonly status: 'pass' | 'fail' | 'skip';
    readonly detail: string;
    readonly problem?: string;
    readonly fix?: string;
  }[];
}

/**
 * Runs `rtc-sidecars doctor ARGS` as its own process, as an operator does (`node
 * --conditions=source src/bin.ts`), with `env` added to this process's environment.
 */
export function runDoctorProcess(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<DoctorRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', BIN, 'doctor', ...args],
      { env: { ...process.env, ...env }, timeout: 50_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The failed checks of a report: id, problem and fix, for exact comparisons. */
export function failures(report: JsonReport): { id: string; problem?: string; fix?: string }[] {
  return report.checks
    .filter((c) => c.status === 'fail')
    .map((c) => ({ id: c.id, problem: c.problem, fix: c.fix }));
}

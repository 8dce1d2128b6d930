/** Where a command writes its output; tests pass a recorder instead of the process streams. */
export interface CliIo {
  /** One line of normal output (stdout). */
  readonly out: (line: string) => void;
  /** One line of diagnostics (stderr). */
  readonly err: (line: string) => void;
  /** The folder relative paths are resolved against. */
  readonly cwd: string;
  /**
   * How to run this CLI again, for the commands it prints: `rtc-sidecars` once installed,
   * `pnpm rtc-sidecars` from a checkout. Default `rtc-sidecars`.
   */
  readonly self?: string;
}

/**
 * The real process streams, in `cwd` (default the process's current folder). A reader that
 * goes away (`rtc-sidecars … | head`) ends the process quietly instead of with an EPIPE stack.
 */
export function processIo(cwd: string = process.cwd(), self = 'rtc-sidecars'): CliIo {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      // 141 = 128 + SIGPIPE, what a shell reports for a program its reader left.
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 141);
    });
  }
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd,
    self,
  };
}

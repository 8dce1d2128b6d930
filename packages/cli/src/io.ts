/** Where a command writes its output; tests pass a recorder instead of the process streams. */
export interface CliIo {
  /** One line of normal output (stdout). */
  readonly out: (line: string) => void;
  /** One line of diagnostics (stderr). */
  readonly err: (line: string) => void;
  /** The folder relative paths are resolved against. */
  readonly cwd: string;
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd: process.cwd(),
  };
}

/** Exit codes of the `rtc-sidecars` command, documented in the package README. */
export const EXIT = Object.freeze({
  /** Everything went well (for `check`: no finding). */
  ok: 0,
  /** The command ran and found problems (`check`), or a file could not be read or written. */
  failed: 1,
  /** Bad usage or bad input: unknown command or flag, an invalid domain or address. */
  usage: 2,
});

/**
 * An error the operator can act on. `main` prints its message as one line and exits with its
 * code; anything else that escapes a command is a bug and prints a stack trace.
 */
export class CliError extends Error {
  /** Process exit code, one of {@link EXIT}. */
  public readonly exitCode: number;

  public constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad flags or bad input values: exit code 2, and nothing has been written. */
export class UsageError extends CliError {
  public constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

import { type CliIo } from '../io.ts';

/**
 * One sub-command of `rtc-sidecars`. Adding a command means one more file exporting a
 * `Command` and one more entry in `commands/index.ts`.
 */
export interface Command {
  readonly name: string;
  /** One line for `rtc-sidecars --help`. */
  readonly summary: string;
  /** Full usage text for `rtc-sidecars <name> --help`. */
  readonly usage: string;
  /**
   * Runs with the arguments after the command name and returns the exit code. Throws
   * `CliError`/`UsageError` for problems the operator can fix.
   */
  readonly run: (args: readonly string[], io: CliIo) => Promise<number>;
}

/** One configuration problem: the variable (or file) at fault and what is wrong with it. */
export interface ConfigIssue {
  /** Environment variable name, e.g. `WELL_KNOWN_BIND` or `LIVEKIT_SECRET_FILE`. */
  readonly variable: string;
  /** Human-readable reason; never contains the variable's value when it is a secret. */
  readonly message: string;
}

/**
 * Raised once by {@link loadConfig} with every bad variable, so an operator fixes them all in
 * one go instead of one restart per mistake.
 */
export class ConfigError extends Error {
  public readonly issues: readonly ConfigIssue[];

  public constructor(issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** Thrown by a value parser; {@link loadConfig} turns it into a {@link ConfigIssue}. */
export class ConfigValueError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ConfigValueError';
  }
}

/** One inconsistency found by `rtc-sidecars check`. */
export interface Finding {
  /** Short rule id, e.g. `secret-mismatch`; the package README lists them all. */
  readonly rule: string;
  /** File of the deployment folder at fault, e.g. `livekit.yaml`. */
  readonly file: string;
  /** Key inside that file, e.g. `rtc.node_ip` or `services.livekit-jwt.environment.LIVEKIT_SECRET`. */
  readonly key: string;
  /** What is wrong and what to do; never contains a secret's value. */
  readonly message: string;
}

/** The one-line form `check` prints. */
export function formatFinding(f: Finding): string {
  return `${f.file}: ${f.key}: ${f.message} [${f.rule}]`;
}

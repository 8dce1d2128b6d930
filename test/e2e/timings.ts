/** Wall-clock time of each hop, printed after the suite so a slow hop stands out in CI logs. */
export class Timings {
  readonly #entries: { name: string; ms: number }[] = [];

  /** Runs `fn`, records how long it took under `name`, and returns its result. */
  async measure<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.#entries.push({ name, ms: performance.now() - start });
    }
  }

  /** The table printed at the end of the run. */
  report(title: string): string {
    const width = Math.max(...this.#entries.map((e) => e.name.length), 10);
    const lines = this.#entries.map(
      (e) => `  ${e.name.padEnd(width)}  ${e.ms.toFixed(0).padStart(7)} ms`,
    );
    return [`${title} (wall-clock per hop)`, ...lines].join('\n');
  }
}

/** An abort signal that fires after a delay, and can be released early. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer. Call it as soon as the guarded work is over. */
  release(): void;
}

/**
 * Like `AbortSignal.timeout(ms)`, but releasable. `AbortSignal.timeout` keeps its signal — and
 * everything undici hung on it for the request — alive until the timer fires, so at 2 000
 * verifications/s a 10 s deadline would pin some 20 000 finished requests in memory.
 */
export function startDeadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`deadline of ${ms} ms exceeded`, 'TimeoutError'));
  }, ms);
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
    },
  };
}

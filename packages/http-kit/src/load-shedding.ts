import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The Matrix answer to a refused request, sent as a 503 with `Retry-After: 5`. */
export const OVERLOADED = Object.freeze({
  errcode: 'M_UNKNOWN',
  error: 'The service is overloaded; retry later',
});

/** How often the event-loop delay is sampled for load shedding: the shedding reaction time. */
export const PRESSURE_SAMPLE_MS = 500;

/** Routes that answer even under pressure: liveness probes and scrapes must see an overload. */
const NEVER_SHED = new Set(['/healthz', '/metrics']);

/** Answers `reply` with the Matrix 503 {@link OVERLOADED}, `Retry-After: 5` and `headers`. */
export function refuseOverloaded(
  reply: FastifyReply,
  headers: Readonly<Record<string, string>> = {},
): FastifyReply {
  return reply
    .code(503)
    .headers({ 'retry-after': '5', ...headers })
    .send(OVERLOADED);
}

/**
 * Options for `@fastify/under-pressure` (each service registers the plugin itself): while the
 * event loop lags more than `maxEventLoopDelayMs` (0 switches it off), new work is refused at
 * once with the Matrix 503 rather than queued behind requests already late. `/healthz` and
 * `/metrics` still answer.
 */
export function sheddingOptions(maxEventLoopDelayMs: number): {
  readonly maxEventLoopDelay: number;
  readonly sampleInterval: number;
  readonly pressureHandler: (request: FastifyRequest, reply: FastifyReply) => void;
} {
  return {
    maxEventLoopDelay: maxEventLoopDelayMs,
    sampleInterval: PRESSURE_SAMPLE_MS,
    pressureHandler: (request, reply) => {
      // Not answering here lets the request through (the plugin's documented contract).
      if (NEVER_SHED.has(request.routeOptions.url ?? '')) return;
      void refuseOverloaded(reply);
    },
  };
}

/** Options for {@link limitInFlight}. */
export interface InFlightLimit {
  /** Unanswered counted requests allowed at once; 0 means no limit. */
  readonly maxInFlight: number;
  /** Which requests count (and can be refused): those that wait on an upstream. */
  readonly counts: (request: FastifyRequest) => boolean;
  /** Headers for the refusal besides `Retry-After`, e.g. CORS a later hook would not add. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Admission limit: requests that wait on an upstream (a homeserver, the SFU) sit in queues the
 * event-loop delay cannot see. Past `maxInFlight` unanswered counted requests, new ones are
 * refused at once with the Matrix 503, which bounds the latency of those admitted. A request
 * leaves the count when answered or aborted.
 */
export function limitInFlight(app: FastifyInstance, limit: InFlightLimit): void {
  if (limit.maxInFlight === 0) return;
  const admitted = new WeakSet<FastifyRequest>();
  let inFlight = 0;
  const release = async (request: FastifyRequest): Promise<void> => {
    if (admitted.delete(request)) inFlight--;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (!limit.counts(request)) return;
    if (inFlight >= limit.maxInFlight) return refuseOverloaded(reply, limit.headers);
    inFlight++;
    admitted.add(request);
  });
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}

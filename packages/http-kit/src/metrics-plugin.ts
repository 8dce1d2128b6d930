import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Options for {@link metricsPlugin}. */
export interface MetricsOptions {
  /**
   * Registry to fill; default a new one per app. Never prom-client's global registry: tests build
   * many apps in one process, and a metric can be registered only once per registry.
   */
  readonly registry?: Registry;
  /** Path of the scrape route; default `/metrics`. */
  readonly path?: string;
  /** Also collect Node.js process metrics (memory, event loop lag, GC); default true. */
  readonly processMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus registry: services add their own metrics to it. */
    readonly metrics: Registry;
  }
}

/** Latency buckets in seconds: mostly sub-millisecond answers, up to upstream timeouts. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label for requests that matched no route, so scanners cannot blow up label cardinality. */
const UNMATCHED = 'unmatched';

/** Records one answered request; see {@link httpMetrics}. */
export type ObserveRequest = (
  method: string,
  route: string,
  status: number,
  seconds: number,
) => void;

const recorders = new WeakMap<Registry, ObserveRequest>();

/**
 * The request metrics of `registry` (`http_requests_total`, `http_request_duration_seconds`),
 * created on first use, as one function to record a request. {@link metricsPlugin} uses it for
 * every Fastify request; a service that answers some requests before Fastify (a pre-rendered
 * fast path) uses it too, so `/metrics` stays complete.
 */
export function httpMetrics(registry: Registry): ObserveRequest {
  const existing = recorders.get(registry);
  if (existing !== undefined) return existing;
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response sent, by method, route pattern and status',
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
  });
  // Looking up a labelled child hashes its labels; caching the children keeps the hot path to
  // one Map lookup per request.
  const children = new Map<
    string,
    { count: { inc(): void }; time: { observe(v: number): void } }
  >();
  const observe: ObserveRequest = (method, route, status, seconds) => {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      const labels = { method, route, status: String(status) };
      child = { count: requests.labels(labels), time: duration.labels(labels) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  };
  recorders.set(registry, observe);
  return observe;
}

/**
 * Prometheus metrics for a Fastify app: `http_requests_total` and
 * `http_request_duration_seconds`, both labelled by `method`, `route` (the route pattern, or
 * `unmatched`) and `status`, plus a `GET /metrics` route in the text exposition format. The
 * registry is exposed as `app.metrics`.
 */
export const metricsPlugin: FastifyPluginAsync<MetricsOptions> = fp(
  async (app: FastifyInstance, options: MetricsOptions) => {
    const registry = options.registry ?? new Registry();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    const observe = httpMetrics(registry);
    app.decorate('metrics', registry);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? UNMATCHED;
      observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });

    app.get(options.path ?? '/metrics', async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  },
  { name: '@rtc-sidecars/http-kit/metrics', fastify: '5.x' },
);

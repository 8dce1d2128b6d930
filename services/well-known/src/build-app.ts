import cors, { type FastifyCorsOptions } from '@fastify/cors';
import underPressure from '@fastify/under-pressure';
import { createServer } from 'node:http';
import {
  httpMetrics,
  installMatrixErrorHandlers,
  limitInFlight,
  matrixClientErrorHandler,
  loggerOptions,
  matrixFrameworkErrors,
  metricsPlugin,
  sheddingOptions,
} from '@rtc-sidecars/http-kit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Counter, Registry } from 'prom-client';
import type { WellKnownConfig } from './config.ts';
import { buildDocuments } from './documents.ts';
import { prerenderedResponder } from './prerendered-responder.ts';
import { HealthSchema } from './schemas.ts';
import { TRANSPORTS_PATHS, transportsRoutes } from './transports-routes.ts';
import { DOCUMENT_PATHS, renderDocuments, wellKnownRoutes } from './well-known-routes.ts';
import { WhoamiClient, type WhoamiResult } from './whoami-client.ts';

/** Options for {@link buildApp}, mostly for tests. */
export interface BuildAppOptions {
  /** Fastify `logger` option; default pino JSON at the configured level, credentials redacted. */
  readonly logger?: FastifyServerOptions['logger'];
}

/** CORS as browsers need it for discovery: any origin, read-only methods, cached preflight. */
const CORS: FastifyCorsOptions = {
  origin: '*',
  methods: ['GET', 'HEAD', 'OPTIONS'],
  allowedHeaders: ['X-Requested-With', 'Content-Type', 'Authorization', 'Accept', 'Origin'],
  maxAge: 86_400,
  // Answer every OPTIONS with 204, even without the Origin and Access-Control-Request-Method
  // headers a strict preflight requires: nginx-based setups did, and probes expect it.
  strictPreflight: false,
};

/**
 * Builds the well-known service without listening: discovery documents, MSC4143 transports,
 * `/healthz` and `/metrics`, with CORS on every answer (errors and 404s included) and Matrix
 * errors throughout. Documents are built and serialised here, once.
 */
export function buildApp(config: WellKnownConfig, options: BuildAppOptions = {}): FastifyInstance {
  const registry = new Registry();
  const documents = buildDocuments(config);
  const rendered = renderDocuments(documents);
  const fastPath = prerenderedResponder(
    (Object.keys(DOCUMENT_PATHS) as (keyof typeof DOCUMENT_PATHS)[]).flatMap((name) => {
      const document = rendered[name];
      return document === undefined ? [] : [{ path: DOCUMENT_PATHS[name], document }];
    }),
    config.cacheMaxAge,
    httpMetrics(registry),
  );
  const app = Fastify({
    // During shutdown, requests on open keep-alive connections are still served (with
    // `Connection: close`, see http-kit's serve) rather than answered with a non-Matrix 503.
    return503OnClosing: false,
    // The documents are answered before Fastify (see prerendered-responder.ts). With a server
    // factory Fastify applies no server timeouts, so they are set here.
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!fastPath(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = 72_000; // Fastify's default
      server.requestTimeout = 30_000;
      return server;
    },
    logger: options.logger ?? loggerOptions({ level: config.logLevel, name: 'well-known' }),
    // Routing failures (bad URL encoding) skip hooks, so CORS is added here by hand.
    frameworkErrors: (error, request, reply) => {
      reply.header('access-control-allow-origin', '*');
      matrixFrameworkErrors(error, request, reply);
    },
    clientErrorHandler: matrixClientErrorHandler({ 'access-control-allow-origin': '*' }),
    // Nothing here takes a body; refuse big ones early.
    bodyLimit: 1024,
    routerOptions: { maxParamLength: 100 },
  });
  void app.register(cors, CORS);
  // Load shedding: while the event loop lags, refuse new work at once with a Matrix 503 (CORS
  // already set by the hook above) instead of queueing it. The pre-rendered documents are
  // answered before Fastify and never shed: they cost less than a refusal would.
  void app.register(underPressure, sheddingOptions(config.maxEventLoopDelayMs));
  // Admission limit: transports checks wait on the homeserver (whoami).
  limitInFlight(app, {
    maxInFlight: config.maxInFlight,
    counts: (request) =>
      (TRANSPORTS_PATHS as readonly string[]).includes(request.routeOptions.url ?? ''),
    // Set here too: this hook may run before the CORS plugin's.
    headers: { 'access-control-allow-origin': '*' },
  });
  installMatrixErrorHandlers(app);
  void app.register(metricsPlugin, { registry });

  const checks = new Counter({
    name: 'well_known_whoami_checks_total',
    help: 'Access token checks for the transports endpoint, by outcome',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const whoami = new WhoamiClient({
    homeserverUrl: config.homeserverInternalUrl,
    timeoutMs: config.whoamiTimeoutMs,
    cacheSeconds: config.whoamiCacheSeconds,
    onResult: (result: WhoamiResult) => {
      checks.inc({ result });
    },
  });
  app.addHook('onClose', async () => whoami.close());

  void app.register(wellKnownRoutes, { rendered, cacheMaxAge: config.cacheMaxAge });
  void app.register(transportsRoutes, { transports: documents.transports, whoami });
  app.get(
    '/healthz',
    { logLevel: 'warn', schema: { response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' as const }),
  );
  return app;
}

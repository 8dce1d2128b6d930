import {
  installMatrixErrorHandlers,
  limitInFlight,
  loggerOptions,
  matrixClientErrorHandler,
  matrixFrameworkErrors,
  metricsPlugin,
  sheddingOptions,
} from '@rtc-sidecars/http-kit';
import underPressure from '@fastify/under-pressure';
import { OpenIdError } from '@rtc-sidecars/matrix-openid';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { DestinationStream } from 'pino';
import type { ServiceConfig } from './config.ts';
import { ACCESS_CONTROL_HEADERS, CORS_HEADERS } from './cors.ts';
import type { JobClock } from './delayed-leave/leave-types.ts';
import { delayedLeaveJobs } from './delayed-leave/delayed-leave-setup.ts';
import type { JobStore } from './stores/job-store.ts';
import {
  createHomeserverClient,
  type HomeserverClient,
} from './delayed-leave/homeserver-client.ts';
import { type RoomService, TwirpRoomService } from './livekit/room-service.ts';
import { TokenMetrics } from './tokens/token-metrics.ts';
import { TokenMinter } from './tokens/token-minter.ts';
import { tokenRoutes } from './tokens/token-routes.ts';
import { type OpenIdVerifier, TokenService } from './tokens/token-service.ts';
import { isProxyName, TrustedProxies } from './trusted-proxies.ts';
import { webhookRoutes } from './delayed-leave/webhook-routes.ts';

/** Upstream caps request bodies at 1 MiB; larger ones get 413 `M_TOO_LARGE`. */
export const BODY_LIMIT = 1024 * 1024;

const TOKEN_PATHS = new Set(['/get_token', '/sfu/get', '/delegate_delayed_leave']);

/** What {@link buildApp} needs; the verifier and the room service are injectable for tests. */
export interface AppDependencies {
  readonly config: ServiceConfig;
  /** OpenID verification (the real one from `@rtc-sidecars/matrix-openid`, or a fake). */
  readonly verifier: OpenIdVerifier;
  /** RoomService client; default Twirp protobuf against `config.apiUrl`. */
  readonly rooms?: RoomService;
  /** Client-server API discovery and MSC4140 calls; default from the config's overrides and guard. */
  readonly homeserver?: HomeserverClient;
  /** Clock of the delayed leave jobs (tests use fake timers); default the real one. */
  readonly clock?: JobClock;
  /** Where the jobs live; default Redis at `config.redisUrl`, else this process's memory. */
  readonly store?: JobStore;
  /** How often a shared store is polled for due jobs (ms); default 250 for Redis. */
  readonly pollMs?: number;
  /** Log destination (tests capture it); default stdout. `false` disables logging. */
  readonly logStream?: DestinationStream | false;
}

/**
 * Builds the token service's Fastify app without listening: the token endpoints with upstream's
 * CORS block on every answer, `/healthz`, `/metrics`, Matrix errors for everything else. Closing
 * the app closes the verifier, the room service and the job store.
 *
 * @throws RedisConnectError when `config.redisUrl` is set and Redis cannot be reached.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const logger =
    deps.logStream === false
      ? false
      : {
          ...loggerOptions({ level: config.logLevel, name: 'livekit-jwt' }),
          ...(deps.logStream === undefined ? {} : { stream: deps.logStream }),
        };
  // A proxy named by host name (the bundle's Traefik) is trusted at its current address only.
  const trusted =
    typeof config.trustProxy !== 'boolean' && config.trustProxy.some(isProxyName)
      ? new TrustedProxies(config.trustProxy)
      : undefined;
  const app = Fastify({
    // During shutdown, requests on open keep-alive connections are still served (with
    // `Connection: close`, see http-kit's serve) rather than answered with a non-Matrix 503.
    return503OnClosing: false,
    logger,
    bodyLimit: BODY_LIMIT,
    trustProxy:
      trusted?.trusts ??
      (typeof config.trustProxy === 'boolean' ? config.trustProxy : [...config.trustProxy]),
    // One line per token request (written by the route) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Routing-level refusals (e.g. a malformed %-escape in the path) skip the onSend hook below,
    // so the CORS block is added here.
    frameworkErrors: (error, request, reply) => {
      reply.headers(ACCESS_CONTROL_HEADERS);
      matrixFrameworkErrors(error, request, reply);
    },
    // Malformed requests and oversized headers, refused by Node's parser before any route: still a
    // Matrix error a browser can read (the parser's answer sets its own Content-Type).
    clientErrorHandler: matrixClientErrorHandler(ACCESS_CONTROL_HEADERS),
  });
  installMatrixErrorHandlers(app);
  if (trusted !== undefined) {
    app.addHook('onReady', () => trusted.start());
    app.addHook('onClose', () => {
      trusted.stop();
    });
  }
  // Load shedding: while the event loop lags, refuse new work at once with a Matrix 503 (CORS
  // from the onSend hook below) rather than queueing it behind requests already late.
  await app.register(underPressure, sheddingOptions(config.maxEventLoopDelayMs));
  // Admission limit: token requests mostly wait on the homeserver (a pool of connections per
  // origin) and the SFU; the refusal gets its CORS block from the onSend hook below.
  limitInFlight(app, {
    maxInFlight: config.maxInFlight,
    counts: (request) =>
      request.method === 'POST' && TOKEN_PATHS.has(request.routeOptions.url ?? ''),
  });
  // Every content type is read as raw bytes, on every route: the token routes parse them
  // strictly, and a wrong method or path is answered 405/404 whatever the body's type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  await app.register(metricsPlugin);
  const metrics = new TokenMetrics(app.metrics);

  const minter = new TokenMinter({ key: config.key, secret: config.secret });
  const rooms = deps.rooms ?? new TwirpRoomService({ apiUrl: config.apiUrl, minter });
  const homeserver =
    deps.homeserver ??
    createHomeserverClient({
      overrides: config.csApiOverrides,
      allowPrivate: config.allowPrivateHomeservers,
      insecureSkipVerifyTls: config.insecureSkipVerifyTls,
    });
  const jobs = await delayedLeaveJobs(app, {
    config,
    homeserver,
    rooms,
    metrics,
    ...(deps.store === undefined ? {} : { store: deps.store }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
  });
  const service = new TokenService({
    policy: config,
    verifier: timedVerifier(deps.verifier, metrics),
    minter,
    rooms: timedRooms(rooms, metrics),
    delegation: { resolveCsApi: (name) => homeserver.resolveCsApi(name), jobs },
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([deps.verifier.close(), rooms.close(), homeserver.close()]);
  });

  // Upstream's CORS block goes on every answer of the token endpoints (405, 413 and 429
  // included) and, as our design asks, on 404s, so a browser can always read the error.
  const outcomes = new WeakMap<FastifyRequest, string>();
  app.addHook('onSend', async (request, reply, payload) => {
    const path = pathOf(request);
    if (TOKEN_PATHS.has(path) || request.is404) reply.headers(CORS_HEADERS);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const path = pathOf(request);
    if (!TOKEN_PATHS.has(path) || request.method === 'OPTIONS') return;
    const outcome = outcomes.get(request) ?? outcomeOfStatus(reply.statusCode);
    metrics.observe(path, outcome, reply.elapsedTime / 1000);
  });

  await app.register(tokenRoutes, {
    service,
    rateLimitPerMinute: config.rateLimitPerMinute,
    outcomes,
  });
  await app.register(webhookRoutes, {
    key: config.key,
    secret: config.secret,
    jobs,
    registry: app.metrics,
  });
  // Liveness only: never touches the SFU or a homeserver. HEAD comes with GET.
  app.get('/healthz', async (_request, reply) => reply.code(200).send());
  return app;
}

/**
 * The token path a request is for: the matched route pattern when there is one (the router has
 * already decoded `%67` and dropped `#fragment`), else the raw path for 404/405 answers.
 */
function pathOf(request: FastifyRequest): string {
  const route = request.routeOptions.url;
  if (route !== undefined) return route;
  const end = request.url.search(/[?#]/);
  return end === -1 ? request.url : request.url.slice(0, end);
}

function outcomeOfStatus(status: number): string {
  if (status === 405) return 'method_not_allowed';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'overloaded';
  return `status_${status}`;
}

function timedVerifier(verifier: OpenIdVerifier, metrics: TokenMetrics): OpenIdVerifier {
  return {
    verify: async (request) => {
      const end = metrics.openId.startTimer();
      try {
        const result = await verifier.verify(request);
        end({ result: 'ok' });
        return result;
      } catch (err) {
        end({ result: err instanceof OpenIdError ? err.kind : 'error' });
        throw err;
      }
    },
    close: () => verifier.close(),
  };
}

function timedRooms(rooms: RoomService, metrics: TokenMetrics): RoomService {
  return {
    createRoom: async (name) => {
      const end = metrics.createRoom.startTimer();
      try {
        await rooms.createRoom(name);
        end({ result: 'ok' });
      } catch (err) {
        end({ result: 'error' });
        throw err;
      }
    },
    hasParticipant: (room, identity) => rooms.hasParticipant(room, identity),
    close: () => rooms.close(),
  };
}

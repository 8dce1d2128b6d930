import rateLimit from '@fastify/rate-limit';
import { MatrixError } from '@rtc-sidecars/http-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type JsonValue, parseStrictJson } from './strict-json.ts';
import { notJson, TokenError } from './token-error.ts';
import {
  type LegacyTokenRequest,
  parseDelegateRequest,
  parseSfuGetRequest,
  parseTokenRequest,
  type TokenRequest,
} from './token-request.ts';
import type { TokenService } from './token-service.ts';

/** Options of {@link tokenRoutes}. */
export interface TokenRoutesOptions {
  readonly service: TokenService;
  /** Requests per minute per client IP; 0 = no limit. */
  readonly rateLimitPerMinute: number;
  /** Where the route records the outcome label of each request, for metrics. */
  readonly outcomes: WeakMap<FastifyRequest, string>;
}

/**
 * Wire shape of a successful answer, key order `url`, `jwt` as upstream; compiled into the
 * response serializer. A plain JSON Schema rather than TypeBox: TypeBox alone would add about
 * 10 MiB of resident memory to a service whose budget is 64 MiB.
 */
const TokenResponse = {
  type: 'object',
  properties: { url: { type: 'string' }, jwt: { type: 'string' } },
  required: ['url', 'jwt'],
  additionalProperties: false,
} as const;

/** `/delegate_delayed_leave` answers `{}`. */
const EmptyResponse = { type: 'object', additionalProperties: false } as const;

const EMPTY = new Uint8Array(0);

/** What a route's action produced: the answer, plus its outcome label and log line. */
interface Handled {
  readonly outcome: string;
  readonly message: string;
  readonly log: Readonly<Record<string, unknown>>;
  readonly payload: object;
}

/**
 * `POST /get_token`, `POST /sfu/get`, `POST /delegate_delayed_leave` and their `OPTIONS` preflights. The body arrives as raw
 * bytes (the app accepts every content type, as upstream does not check it) and is parsed
 * strictly here, so malformed input is refused before any OpenID lookup.
 */
export async function tokenRoutes(
  app: FastifyInstance,
  options: TokenRoutesOptions,
): Promise<void> {
  const { service, outcomes } = options;

  if (options.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: false,
      max: options.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.ip,
      addHeadersOnExceeding: {
        'x-ratelimit-limit': false,
        'x-ratelimit-remaining': false,
        'x-ratelimit-reset': false,
      },
      errorResponseBuilder: (_request, context) =>
        new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', {
          extra: { retry_after_ms: context.ttl },
        }),
    });
  }
  // Read by @fastify/rate-limit only when it is registered (limit > 0).
  const rateLimitConfig = { rateLimit: { max: options.rateLimitPerMinute } };

  const handle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    act: (body: JsonValue) => Promise<Handled>,
  ): Promise<FastifyReply> => {
    try {
      let body: JsonValue;
      try {
        body = parseStrictJson((request.body as Uint8Array | undefined) ?? EMPTY);
      } catch (err) {
        throw notJson(err);
      }
      const handled = await act(body);
      outcomes.set(request, handled.outcome);
      request.log.info({ outcome: handled.outcome, ...handled.log }, handled.message);
      return await reply.code(200).send(handled.payload);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      outcomes.set(request, err.outcome);
      // The cause says why (an OpenIdError names the homeserver failure); it never holds a token.
      if (err.statusCode >= 500) {
        request.log.error({ outcome: err.outcome, err: err.cause }, 'token refused');
      } else {
        const reason = err.cause instanceof Error ? err.cause.message : undefined;
        request.log.info({ outcome: err.outcome, reason }, 'token refused');
      }
      throw new MatrixError(err.statusCode, err.errcode, err.message);
    }
  };

  const issue =
    (parse: (body: JsonValue) => TokenRequest | LegacyTokenRequest) =>
    async (body: JsonValue): Promise<Handled> => {
      const issued = await service.issue(parse(body));
      return {
        outcome: issued.fullAccess ? 'ok_full' : 'ok_restricted',
        message: 'token issued',
        log: { user: issued.userId, room: issued.room },
        payload: { url: issued.url, jwt: issued.jwt },
      };
    };
  const delegate = async (body: JsonValue): Promise<Handled> => {
    const { userId, room } = await service.delegate(parseDelegateRequest(body));
    return {
      outcome: 'ok_delegated',
      message: 'delayed leave delegated',
      log: { user: userId, room },
      payload: {},
    };
  };

  const schema = { response: { 200: TokenResponse } };
  app.post('/get_token', { schema, config: rateLimitConfig }, async (request, reply) =>
    handle(request, reply, issue(parseTokenRequest)),
  );
  app.post('/sfu/get', { schema, config: rateLimitConfig }, async (request, reply) =>
    handle(request, reply, issue(parseSfuGetRequest)),
  );
  app.post(
    '/delegate_delayed_leave',
    { schema: { response: { 200: EmptyResponse } }, config: rateLimitConfig },
    async (request, reply) => handle(request, reply, delegate),
  );
  // Preflight: 200, empty body, the CORS block (added by the app's onSend hook); no backend.
  for (const url of ['/get_token', '/sfu/get', '/delegate_delayed_leave']) {
    app.options(url, async (_request, reply) => reply.code(200).send());
  }
}

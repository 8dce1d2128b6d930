import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/**
 * Log paths whose values are credentials: bearer and cookie headers, Matrix access and OpenID
 * tokens, LiveKit JWTs, API and TURN secrets. Wildcards cover one level of nesting, which is how
 * request bodies and config objects are logged (`{ body: { openid_token: … } }`).
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'access_token',
    'accessToken',
    'openid_token',
    'openIdToken',
    'token',
    'jwt',
    'secret',
    'api_secret',
    'apiSecret',
    'turn_secret',
    'turnSecret',
    'password',
  ].flatMap((key) => [key, `*.${key}`]),
]);

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Options for {@link loggerOptions}. */
export interface LoggerSettings {
  /** pino level; default `info`. */
  readonly level?: string;
  /** Logger name, e.g. the service name, added to every line. */
  readonly name?: string;
}

/**
 * pino options for a Fastify service: JSON lines, credentials redacted by {@link REDACT_PATHS},
 * and a request serializer that drops the `access_token` query parameter Matrix clients may send
 * instead of an `Authorization` header. Pass the result as Fastify's `logger` option.
 */
export function loggerOptions(settings: LoggerSettings = {}): LoggerOptions {
  return {
    level: settings.level ?? 'info',
    ...(settings.name === undefined ? {} : { name: settings.name }),
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      // Fastify passes its request here; anything else logged under `req` is left as is (and
      // still goes through `redact`).
      req: (req: FastifyRequest | Record<string, unknown>) =>
        isFastifyRequest(req)
          ? {
              method: req.method,
              url: redactUrl(req.url),
              host: req.host,
              remoteAddress: req.ip,
              remotePort: req.socket.remotePort,
            }
          : req,
    },
  };
}

function isFastifyRequest(req: object): req is FastifyRequest {
  return 'raw' in req && 'routeOptions' in req;
}

const SECRET_QUERY = /([?&](?:access_token|token|jwt)=)[^&#]*/gi;

/** Replaces the values of `access_token`, `token` and `jwt` query parameters in a URL or path. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, `$1${REDACTED}`);
}

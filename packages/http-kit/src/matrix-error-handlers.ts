import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MatrixError } from './matrix-error.ts';

/**
 * Installs the one error handler and the not-found handler of a service, so every failure is a
 * Matrix error `{errcode, error}`:
 * - a thrown {@link MatrixError} is sent as is (status, headers, body);
 * - Fastify's own errors become the closest Matrix error (see {@link toMatrixError});
 * - anything else is logged and answered `500 M_UNKNOWN` without internals;
 * - an unknown path is `404 M_UNRECOGNIZED`; a known path with the wrong method is
 *   `405 M_UNRECOGNIZED` with an `Allow` header, as the Matrix spec asks.
 *
 * Call it before registering routes: it watches `onRoute` to learn which methods each static
 * path accepts.
 */
export function installMatrixErrorHandlers(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    // Only static paths: parametric and wildcard routes (such as the CORS preflight `*`) cannot
    // tell whether a concrete path is "known".
    if (/[:*]/.test(route.url)) return;
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    methodsByPath.set(route.url, methods);
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const matrix = toMatrixError(error);
    if (matrix.statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else if (!(error instanceof MatrixError)) {
      request.log.info({ err: error }, 'request refused');
    }
    return sendMatrixError(reply, matrix);
  });

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    const methods = methodsByPath.get(path);
    if (methods === undefined) {
      return sendMatrixError(reply, new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request'));
    }
    return sendMatrixError(
      reply,
      new MatrixError(405, 'M_UNRECOGNIZED', 'Unrecognized request', {
        headers: { allow: [...methods].sort().join(', ') },
      }),
    );
  });
}

/** Sends `error` as a Matrix error response. */
export function sendMatrixError(reply: FastifyReply, error: MatrixError): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.toJSON()));
}

const FASTIFY_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'M_TOO_LARGE', 'Request body too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'M_NOT_JSON', 'Content-Type must be application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'M_NOT_JSON', 'Request body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'M_NOT_JSON', 'Request body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'M_UNKNOWN', 'Invalid Content-Length'],
  FST_ERR_BAD_URL: [400, 'M_UNRECOGNIZED', 'Malformed request path'],
};

/**
 * Maps any error to the {@link MatrixError} to send: a MatrixError is kept; schema validation
 * failures become `400 M_BAD_JSON` (body) or `400 M_INVALID_PARAM` (query, params, headers) with
 * Fastify's description of the failing field; known Fastify errors get their Matrix equivalent;
 * other 4xx keep their status with the generic reason phrase; everything else is `500 M_UNKNOWN`.
 */
export function toMatrixError(error: unknown): MatrixError {
  if (error instanceof MatrixError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as Partial<FastifyError>;
  if (e.validation !== undefined) {
    const errcode = e.validationContext === 'body' ? 'M_BAD_JSON' : 'M_INVALID_PARAM';
    return new MatrixError(400, errcode, e.message ?? 'Invalid request', { cause: error });
  }
  const known = e.code === undefined ? undefined : FASTIFY_ERRORS[e.code];
  if (known !== undefined) return new MatrixError(known[0], known[1], known[2], { cause: error });
  const status = e.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new MatrixError(status, 'M_UNKNOWN', STATUS_CODES[status] ?? 'Bad request', {
      cause: error,
    });
  }
  return new MatrixError(500, 'M_UNKNOWN', 'Internal server error', { cause: error });
}

/**
 * Fastify `frameworkErrors` option: routing-level failures (malformed URL encoding, over-long
 * parameters) answered as Matrix errors instead of Fastify's default JSON shape.
 */
export function matrixFrameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  void sendMatrixError(reply, toMatrixError(error));
}

/**
 * A Fastify `clientErrorHandler` for requests Node's HTTP parser refuses before any route runs
 * (headers too large, malformed request line or header, request timeout): answers `431`, `400`
 * or `408` as a Matrix error, with `headers` added (e.g. a service's CORS header), then closes
 * the connection, as Node and Fastify do.
 */
export function matrixClientErrorHandler(
  headers: Readonly<Record<string, string>> = {},
): (error: NodeJS.ErrnoException, socket: Socket) => void {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request headers too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request timed out']
          : [400, 'Malformed request'];
    const errcode = status === 400 ? 'M_UNRECOGNIZED' : 'M_UNKNOWN';
    const body = JSON.stringify({ errcode, error: message });
    // As Node's default handler does: if a response already started on this socket (Node
    // answers a request without Host itself), a second status line would corrupt the stream.
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && current?.headersSent !== true) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${extra}` +
          `Content-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

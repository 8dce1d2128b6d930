import { type Dispatcher } from 'undici';
import { OpenIdError } from './openid-error.ts';
import { discardBody, readCappedBody } from './read-capped-body.ts';
import { toOpenIdError } from './to-openid-error.ts';
import { parseUserId } from './user-id.ts';

/** The federation endpoint that turns an OpenID access token into a user ID. */
export const USERINFO_PATH = '/_matrix/federation/v1/openid/userinfo';

// 401/403/404 mean "this server does not vouch for the token" (unknown or expired token, or
// federation switched off); anything else non-2xx is the server misbehaving.
const REJECTED_STATUSES = new Set([401, 403, 404]);

/** One userinfo call: where to send it and what it is checked against. */
export interface UserinfoRequest {
  readonly dispatcher: Dispatcher;
  /** `https://host:port`, or an override's origin. */
  readonly origin: string;
  /** Path prefix before {@link USERINFO_PATH}: empty, or an override's path. */
  readonly pathPrefix: string;
  /** The `Host` header (and so the TLS name); undefined to derive it from `origin`. */
  readonly hostHeader: string | undefined;
  /** Says where the request went, for error messages. */
  readonly context: string;
  readonly accessToken: string;
  /** The server name the client claimed; `sub` must be on exactly this server. */
  readonly serverName: string;
  readonly signal: AbortSignal;
  readonly maxBodyBytes: number;
  readonly userAgent: string;
}

/**
 * `GET <origin><prefix>/_matrix/federation/v1/openid/userinfo?access_token=…` and checks the
 * answer: a 2xx JSON object whose `sub` is a valid user ID on exactly `serverName`.
 * Throws {@link OpenIdError}; no message or cause contains the access token.
 */
export async function requestUserinfo(request: UserinfoRequest): Promise<{ sub: string }> {
  const { context, maxBodyBytes } = request;
  let text: string;
  try {
    const response = await request.dispatcher.request({
      origin: request.origin,
      path: `${request.pathPrefix}${USERINFO_PATH}?access_token=${encodeURIComponent(request.accessToken)}`,
      method: 'GET',
      headers: {
        'user-agent': request.userAgent,
        ...(request.hostHeader === undefined ? {} : { host: request.hostHeader }),
      },
      signal: request.signal,
    });
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      const errcode = await errcodeOf(response.body, maxBodyBytes);
      const kind = REJECTED_STATUSES.has(status) ? 'rejected' : 'bad_response';
      throw new OpenIdError(kind, `${context}: HTTP ${status}${errcode}`);
    }
    text = await readCappedBody(response.body, maxBodyBytes, response.headers['content-length']);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ERR_BODY_TOO_LARGE') {
      throw new OpenIdError('bad_response', `${context}: body over ${maxBodyBytes} bytes`);
    }
    throw toOpenIdError(error, context, {
      timedOut: request.signal.aborted,
      secret: request.accessToken,
    });
  }
  return checkSub(text, context, request.serverName);
}

async function errcodeOf(
  body: Dispatcher.ResponseData['body'],
  maxBodyBytes: number,
): Promise<string> {
  let text: string;
  try {
    text = await readCappedBody(body, maxBodyBytes, undefined);
  } catch {
    await discardBody(body, maxBodyBytes);
    return '';
  }
  try {
    const errcode = (JSON.parse(text) as { errcode?: unknown } | null)?.errcode;
    // Only a well-formed errcode goes into logs: the rest of the body is the server's free text.
    return typeof errcode === 'string' && /^M_[A-Z_]{1,64}$/.test(errcode) ? ` ${errcode}` : '';
  } catch {
    return '';
  }
}

function checkSub(text: string, context: string, serverName: string): { sub: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OpenIdError('bad_response', `${context}: body is not JSON`);
  }
  const sub = (json as { sub?: unknown } | null)?.sub;
  const user = parseUserId(sub);
  if (user === undefined)
    throw new OpenIdError('bad_response', `${context}: missing or invalid "sub"`);
  // Exact string comparison, ports included, as the reference does: the full-access decision is
  // made on the claimed server name, so `sub` must be bound to exactly that name.
  if (user.serverName.raw !== serverName) {
    throw new OpenIdError(
      'server_mismatch',
      `${context}: "sub" ${user.raw} is not on ${serverName}`,
    );
  }
  return { sub: user.raw };
}

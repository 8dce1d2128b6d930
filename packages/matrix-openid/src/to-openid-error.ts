import { OpenIdError, type OpenIdFailureKind } from './openid-error.ts';

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Walks `cause` chains and AggregateErrors, since undici wraps connector errors. */
function* errorChain(error: unknown): Generator {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    yield current;
    if (current instanceof AggregateError) for (const inner of current.errors) yield inner;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** Removes every occurrence of `secret` (raw and URL-encoded) from a message. */
export function scrub(message: string, secret: string): string {
  if (secret === '') return message;
  let out = message;
  for (const form of new Set([secret, encodeURIComponent(secret)]))
    out = out.split(form).join('«redacted»');
  return out;
}

/**
 * Turns whatever a network step threw into an {@link OpenIdError}. `context` says what was being
 * done (e.g. `userinfo at matrix.example.org:8448`); `timedOut` tells whether our own deadline
 * fired. The original error is kept as `cause` only in reduced, scrubbed form, so that logging
 * the error can never print the access token.
 */
export function toOpenIdError(
  error: unknown,
  context: string,
  options: { timedOut: boolean; secret: string },
): OpenIdError {
  if (error instanceof OpenIdError) return error;
  let kind: OpenIdFailureKind = 'unreachable';
  let detail = error instanceof Error ? error.message : String(error);
  for (const link of errorChain(error)) {
    const code = codeOf(link);
    if (code === 'ERR_ADDRESS_REFUSED') {
      kind = 'refused_by_policy';
      detail = (link as Error).message;
      break;
    }
    if (code !== undefined && TIMEOUT_CODES.has(code)) kind = 'timeout';
  }
  if (options.timedOut && kind !== 'refused_by_policy') kind = 'timeout';
  const code = codeOf(error);
  const message = scrub(
    `${context}: ${code === undefined ? detail : `${code} ${detail}`}`,
    options.secret,
  );
  const cause = {
    name: error instanceof Error ? error.name : typeof error,
    code,
    message: scrub(detail, options.secret),
  };
  return new OpenIdError(kind, message, { cause });
}

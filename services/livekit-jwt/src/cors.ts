/** Upstream's access-control headers, without the content type. */
export const ACCESS_CONTROL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers':
    'Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token',
});

/**
 * The header block upstream sends on every answer of its token endpoints, for every method and
 * status, before the method check. Static on purpose: no origin reflection, no `Vary`, no
 * max-age, exactly what existing Element Call, Element X and widget clients were tested with.
 */
export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  ...ACCESS_CONTROL_HEADERS,
});

import fc from 'fast-check';

/** Methods a client can send: the usual ones, WebDAV's, and lower case (methods are case-sensitive). */
export const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'SEARCH',
  'LOCK',
  'MKCOL',
  'get',
  'post',
] as const;

export const methodArbitrary: fc.Arbitrary<string> = fc.constantFrom(...METHODS);

/** Percent-encodes every byte outside unreserved ASCII, as a client would put it on the wire. */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~/]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

const VARIANTS: readonly ((path: string) => string)[] = [
  (p) => p,
  (p) => `/${p}`, // `//get_token`
  (p) => `${p}/`,
  (p) => p.toUpperCase(),
  (p) => `/%2e%2e${p}`,
  (p) => `/x/..${p}`,
  (p) => `/.${p}`,
  (p) => p.replace(/\/([^/]*)$/, '/%2e%2e/$1'),
  (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  (p) => `${p}%00`,
  (p) => `${p};param`,
  (p) => `${p}?`,
  (p) => `${p}?access_token=secret-in-query&a=%ZZ`,
  (p) => `${p}?${'q'.repeat(5000)}=1`,
  (p) => `${p}#fragment`,
  (p) => `${p}%`,
  (p) => `${p}%zz`,
  (p) => `${p}/%c0%ae%c0%ae/`,
  (p) => `${p}/${'a'.repeat(2000)}`,
  (p) => p.replaceAll('/', '%2F'),
  (p) => p.replaceAll('/', '\\'),
];

/** Paths: the service's own with every odd variant, random web paths, very long and malformed ones. */
export function pathArbitrary(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...known), fc.constantFrom(...VARIANTS))
        .map(([p, v]) => v(p)),
    },
    { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/${percentEncode(s)}`),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(1_000, 8_000, 65_000, 200_000)
        .chain((n) =>
          fc.constantFrom(
            `/${'a'.repeat(n)}`,
            `/${'a/'.repeat(n / 2)}`,
            `${known[0] ?? ''}?${'x'.repeat(n)}`,
          ),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/',
        '/%',
        '/%zz',
        '/%ff',
        '/%c0%ae',
        '/%u002e',
        '/..',
        '/../../etc/passwd',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/\u0000',
        '//',
        '/?',
        '/#',
      ),
    },
  );
}

const HEADER_VALUE = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\t', '\u00e9', '\u00ff'),
  ),
  maxLength: 40,
});
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEADER_NAME = fc.string({
  unit: fc.constantFrom(...TOKEN_CHARS.split('')),
  minLength: 1,
  maxLength: 20,
});

/** `Authorization` values: well-formed bearer tokens, other schemes, empty, huge and odd ones. */
export const authorizationArbitrary: fc.Arbitrary<string> = fc.oneof(
  HEADER_VALUE.map((t) => `Bearer ${t}`),
  fc.constantFrom(
    'Bearer fuzz-token',
    'bearer   fuzz-token  ',
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'Bearer a b',
    `Bearer ${'t'.repeat(4096)}`,
    'Bearer \u00e9\u00ff',
    'Negotiate',
    '',
  ),
);

/** Content types the services may see, sensible and not. */
export const contentTypeArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json;;;',
    'APPLICATION/JSON',
    'text/plain',
    'text/plain; charset=iso-8859-1',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=----x',
    'multipart/form-data',
    'application/octet-stream',
    'application/protobuf',
    '*/*',
    '',
    ';',
    `application/${'x'.repeat(5000)}`,
  ),
  HEADER_VALUE,
);

/** A set of request headers: the ones the services read, odd encodings, huge and random ones. */
export const headersArbitrary: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      authorization: authorizationArbitrary,
      'content-type': contentTypeArbitrary,
      'content-encoding': fc.constantFrom(
        'gzip',
        'br',
        'deflate',
        'identity',
        'zstd',
        'gzip, br',
        'x',
      ),
      'accept-encoding': fc.constantFrom('gzip', 'br', '*', 'identity;q=0', ''),
      'transfer-encoding': fc.constantFrom('gzip', 'identity'),
      origin: fc.constantFrom('https://app.element.io', 'null', 'http://evil.example', '*', ''),
      'access-control-request-method': fc.constantFrom('POST', 'GET', 'DELETE', ''),
      'access-control-request-headers': fc.constantFrom('content-type', 'authorization, x-y', ''),
      'if-none-match': fc.oneof(
        fc.constantFrom('*', 'W/"x"', '"a", "b"', `"${'e'.repeat(10_000)}"`, ','),
        HEADER_VALUE,
      ),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'garbage', '1.2.3.4, 5.6.7.8', ''),
      host: fc.constantFrom('example.org', '', '[::1]:1', 'a'.repeat(3000), 'x:y:z'),
      'x-huge': fc.constantFrom(1_000, 16_000, 100_000).map((n) => 'h'.repeat(n)),
      cookie: HEADER_VALUE,
    },
    { requiredKeys: [] },
  )
  .chain((known) =>
    fc
      .dictionary(
        HEADER_NAME.map((n) => `x-${n}`),
        HEADER_VALUE,
        { maxKeys: 4 },
      )
      .map((extra) => ({ ...extra, ...known })),
  );

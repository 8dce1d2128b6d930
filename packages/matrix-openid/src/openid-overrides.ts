import { parseServerName } from './server-name.ts';

/**
 * Parses `LIVEKIT_OPENID_OVERRIDES`: comma-separated `server_name=base_url` entries, e.g.
 * `example.org=http://continuwuity:6167,other.org=https://matrix.other.org`. The base URL is where
 * that server's `/_matrix/federation/v1/openid/userinfo` is served (a path prefix is kept).
 * Whitespace around entries is ignored, and so is an empty string.
 *
 * @returns server name → base URL without a trailing slash.
 * @throws Error naming the offending entry when a server name or URL is invalid or repeated.
 */
export function parseOpenIdOverrides(raw: string): Map<string, string> {
  const overrides = new Map<string, string>();
  for (const part of raw.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq < 0)
      throw new Error(`OpenID override "${entry}" is not of the form server_name=base_url`);
    const name = entry.slice(0, eq).trim();
    const base = entry.slice(eq + 1).trim();
    if (parseServerName(name) === undefined) {
      throw new Error(`OpenID override "${entry}": "${name}" is not a valid Matrix server name`);
    }
    if (overrides.has(name)) {
      throw new Error(`OpenID override "${entry}": server name "${name}" is listed twice`);
    }
    overrides.set(name, normaliseBaseUrl(entry, name, base));
  }
  return overrides;
}

function normaliseBaseUrl(entry: string, name: string, base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`OpenID override "${entry}": "${base}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`OpenID override "${entry}": the URL must be http:// or https://`);
  }
  if (url.username !== '' || url.password !== '') {
    // Name the server, not the entry: the entry holds the credentials.
    throw new Error(`OpenID override for "${name}": the URL must not carry credentials`);
  }
  if (url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) {
    throw new Error(`OpenID override "${entry}": the URL must not carry a query or a fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

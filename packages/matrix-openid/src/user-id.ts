import { parseServerName, type ServerName } from './server-name.ts';

/** A Matrix user ID split into its parts. */
export interface UserId {
  /** The whole ID, e.g. `@alice:example.org`. */
  readonly raw: string;
  readonly localpart: string;
  /** The server part, exactly as written after the first `:`. */
  readonly serverName: ServerName;
}

// Historical user IDs (spec "Historical User IDs") allow any printable ASCII but ":" in the
// localpart; current ones are a subset. Accepting the historical set keeps old accounts working
// while still refusing spaces, control characters and non-ASCII.
const LOCALPART = /^[\x21-\x39\x3B-\x7E]+$/;

/**
 * Parses a user ID (`@localpart:server_name`, at most 255 bytes), or returns `undefined`.
 * The server part is whatever follows the first `:`, so `@a:b.org:8448` has server `b.org:8448`.
 */
export function parseUserId(raw: unknown): UserId | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('@')) return undefined;
  if (Buffer.byteLength(raw, 'utf8') > 255) return undefined;
  const colon = raw.indexOf(':');
  if (colon < 0) return undefined;
  const localpart = raw.slice(1, colon);
  if (!LOCALPART.test(localpart)) return undefined;
  const serverName = parseServerName(raw.slice(colon + 1));
  if (serverName === undefined) return undefined;
  return { raw, localpart, serverName };
}

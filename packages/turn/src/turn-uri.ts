import { isIP, isIPv4, isIPv6 } from 'node:net';

/** The four URI schemes of RFC 7064 (STUN) and RFC 7065 (TURN). */
export type TurnUriScheme = 'stun' | 'stuns' | 'turn' | 'turns';

/** A parsed STUN or TURN URI. */
export interface TurnUri {
  readonly scheme: TurnUriScheme;
  /** Host name or IP address, without the brackets of an IPv6 literal. */
  readonly host: string;
  /** The port written in the URI; {@link turnUriPort} gives the effective one. */
  readonly port?: number;
  /** `?transport=`; TURN URIs only. */
  readonly transport?: 'udp' | 'tcp';
}

/** A string that is not a STUN/TURN URI; the message says which and why. */
export class TurnUriError extends Error {
  /** The offending text, as given. */
  public readonly input: string;

  public constructor(input: string, reason: string) {
    super(`"${input}" is not a valid TURN/STUN URI: ${reason}`);
    this.name = 'TurnUriError';
    this.input = input;
  }
}

const SCHEMES: readonly string[] = ['stun', 'stuns', 'turn', 'turns'];
// RFC 3986 reg-name narrowed to what DNS and WebRTC stacks accept.
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** The port a URI resolves to: its own, else 3478 for `stun`/`turn` and 5349 for the TLS ones. */
export function turnUriPort(uri: TurnUri): number {
  return uri.port ?? (uri.scheme === 'stuns' || uri.scheme === 'turns' ? 5349 : 3478);
}

function parseHostPort(input: string, text: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) throw new TurnUriError(input, 'unclosed "[" in the IPv6 address');
    host = text.slice(1, end);
    if (!isIPv6(host)) throw new TurnUriError(input, `"${host}" is not an IPv6 address`);
    const rest = text.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) {
      throw new TurnUriError(input, `unexpected "${rest}" after the IPv6 address`);
    }
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.indexOf(':');
    if (colon !== -1 && text.indexOf(':', colon + 1) !== -1) {
      throw new TurnUriError(
        input,
        'an IPv6 address must be written in brackets, e.g. [2001:db8::1]',
      );
    }
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (host === '') throw new TurnUriError(input, 'the host is missing');
    if (!isIPv4(host) && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) {
      throw new TurnUriError(input, `"${host}" is not a host name or IPv4 address`);
    }
    host = host.toLowerCase();
  }
  if (portText === undefined) return { host };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new TurnUriError(input, `"${portText}" is not a port number (1-65535)`);
  }
  return { host, port };
}

/**
 * Parses a `stun:`/`stuns:` (RFC 7064) or `turn:`/`turns:` (RFC 7065) URI. It refuses the
 * look-alikes operators write by mistake: `turn://host`, user info, paths, unknown query
 * parameters and transports other than udp and tcp.
 */
export function parseTurnUri(input: string): TurnUri {
  const text = input.trim();
  if ((text.match(/\b(turns?|stuns?):/gi) ?? []).length > 1) {
    throw new TurnUriError(
      input,
      'several URIs run together; separate them with commas or use a JSON array',
    );
  }
  if (/\s/.test(text)) throw new TurnUriError(input, 'it contains white space');
  const colon = text.indexOf(':');
  const scheme = colon === -1 ? '' : text.slice(0, colon).toLowerCase();
  if (!SCHEMES.includes(scheme)) {
    throw new TurnUriError(input, 'it must start with turn:, turns:, stun: or stuns:');
  }
  let rest = text.slice(colon + 1);
  if (rest.startsWith('//')) {
    throw new TurnUriError(input, `write "${scheme}:host", without "//" after the scheme`);
  }
  let transport: 'udp' | 'tcp' | undefined;
  const q = rest.indexOf('?');
  if (q !== -1) {
    const query = rest.slice(q + 1);
    rest = rest.slice(0, q);
    if (scheme.startsWith('stun')) {
      throw new TurnUriError(input, 'a STUN URI takes no query (RFC 7064)');
    }
    const m = /^transport=(.*)$/i.exec(query);
    if (m === null) throw new TurnUriError(input, `"?${query}" is not "?transport=udp|tcp"`);
    const t = (m[1] ?? '').toLowerCase();
    if (t !== 'udp' && t !== 'tcp') throw new TurnUriError(input, `unknown transport "${t}"`);
    transport = t;
  }
  if (/[/@\s#]/.test(rest)) {
    throw new TurnUriError(
      input,
      'only host and port may follow the scheme (no user, path or spaces)',
    );
  }
  const { host, port } = parseHostPort(input, rest);
  return {
    scheme: scheme as TurnUriScheme,
    host,
    ...(port === undefined ? {} : { port }),
    ...(transport === undefined ? {} : { transport }),
  };
}

/** Writes a URI in its canonical form: lower-case scheme and host, IPv6 in brackets. */
export function formatTurnUri(uri: TurnUri): string {
  const host = isIP(uri.host) === 6 ? `[${uri.host}]` : uri.host;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const transport = uri.transport === undefined ? '' : `?transport=${uri.transport}`;
  return `${uri.scheme}:${host}${port}${transport}`;
}

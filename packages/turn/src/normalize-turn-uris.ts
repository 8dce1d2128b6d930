import { formatTurnUri, parseTurnUri, TurnUriError } from './turn-uri.ts';

/** Options of {@link normalizeTurnUris}. */
export interface NormalizeTurnUrisOptions {
  /**
   * Accept `stun:`/`stuns:` entries too. Off by default: the Matrix `turn_uris` setting and the
   * `/voip/turnServer` response carry TURN URIs.
   */
  readonly allowStun?: boolean;
}

function split(input: string): string[] {
  const text = input.trim();
  if (text.startsWith('{'))
    throw new TurnUriError(text, 'a JSON object is not a list; write a JSON array');
  if (text.startsWith('[')) {
    // A YAML single-quoted '[\"turn:…\"]' (the form the seed deployment calls correct) reaches the
    // environment with its backslashes; it is unambiguous, so read it rather than fail the call.
    for (const candidate of [text, text.replaceAll('\\"', '"')]) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(candidate);
      } catch {
        continue;
      }
      if (!Array.isArray(parsed)) break;
      return parsed.map((entry: unknown, i) => {
        if (typeof entry !== 'string') {
          throw new TurnUriError(
            JSON.stringify(entry),
            `entry ${i + 1} of the JSON array is not a string`,
          );
        }
        return entry;
      });
    }
    throw new TurnUriError(text, 'it starts with "[" but is not a JSON array of strings');
  }
  return text.split(',');
}

/**
 * Accepts TURN URIs in the forms operators actually write — a JSON array, a comma-separated
 * list or a single URI (or an array of strings) — and returns them parsed, canonical and without
 * duplicates, ready for `JSON.stringify` into a homeserver's `turn_uris`.
 *
 * @throws {@link TurnUriError} naming the first bad entry, or saying the list is empty.
 */
export function normalizeTurnUris(
  input: string | readonly string[],
  options: NormalizeTurnUrisOptions = {},
): string[] {
  const entries = typeof input === 'string' ? split(input) : [...input];
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') {
      if (entries.length === 1) break;
      throw new TurnUriError(raw, 'empty entry in the list (a stray comma?)');
    }
    const uri = parseTurnUri(entry);
    if (!options.allowStun && uri.scheme.startsWith('stun')) {
      throw new TurnUriError(entry, 'a STUN URI is not a TURN URI; use turn: or turns:');
    }
    const text = formatTurnUri(uri);
    if (!out.includes(text)) out.push(text);
  }
  if (out.length === 0)
    throw new TurnUriError(typeof input === 'string' ? input : '', 'no URI given');
  return out;
}

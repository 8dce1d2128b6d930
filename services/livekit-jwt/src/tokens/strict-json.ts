/**
 * A JSON number kept as its literal text, so integer fields can refuse `3600.5`, `1e3` or values
 * beyond 64 bits exactly as the reference's typed decoders do.
 */
export class JsonNumber {
  public readonly text: string;

  public constructor(text: string) {
    this.text = text;
  }
}

/** A parsed JSON value; numbers stay {@link JsonNumber}s. */
export type JsonValue =
  | null
  | boolean
  | string
  | JsonNumber
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Why a body is not acceptable JSON; the message is for logs only. */
export class JsonSyntaxError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Deepest nesting accepted; request bodies of the token endpoints are two levels deep. */
export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Parses exactly one JSON document from raw bytes, stricter than `JSON.parse`: invalid UTF-8,
 * a byte-order mark, duplicate object keys, unpaired surrogate escapes, trailing bytes and
 * nesting deeper than {@link MAX_JSON_DEPTH} are all errors. Serde (the Rust upstream) refuses
 * the same inputs; accepting them would let two parsers disagree on what a request says.
 *
 * @throws {@link JsonSyntaxError}
 */
export function parseStrictJson(bytes: Uint8Array): JsonValue {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new JsonSyntaxError('invalid UTF-8');
  }
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('trailing characters');
  return value;
}

class Parser {
  public pos = 0;
  private readonly text: string;

  public constructor(text: string) {
    this.text = text;
  }

  public fail(what: string): never {
    throw new JsonSyntaxError(`${what} at offset ${this.pos}`);
  }

  public skipWhitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  public value(depth: number): JsonValue {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth + 1);
      case '[':
        return this.array(depth + 1);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('unexpected character');
    this.pos += word.length;
    return value;
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null)
      this.fail(this.pos >= this.text.length ? 'unexpected end' : 'unexpected character');
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }

  private object(depth: number): Record<string, JsonValue> {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep');
    this.pos++;
    const out: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const key = this.string();
      if (Object.hasOwn(out, key)) this.fail('duplicate key');
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.skipWhitespace();
      out[key] = this.value(depth);
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
      this.skipWhitespace();
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep');
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
      this.skipWhitespace();
    }
  }

  private string(): string {
    const text = this.text;
    let out = '';
    let start = ++this.pos;
    for (;;) {
      const code = text.charCodeAt(this.pos);
      if (Number.isNaN(code)) this.fail('unterminated string');
      if (code === 0x22) break;
      if (code < 0x20) this.fail('control character in string');
      if (code !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(start, this.pos);
      out += this.escape();
      start = this.pos;
    }
    out += text.slice(start, this.pos);
    this.pos++;
    return out;
  }

  /** Reads one escape sequence at `pos` (a backslash); surrogates must come in valid pairs. */
  private escape(): string {
    const c = this.text[this.pos + 1] ?? '';
    if (c !== 'u') {
      const simple = ESCAPES[c];
      if (simple === undefined) this.fail('invalid escape');
      this.pos += 2;
      return simple;
    }
    const unit = this.hex4();
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('unpaired surrogate');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (this.text[this.pos] !== '\\' || this.text[this.pos + 1] !== 'u')
      this.fail('unpaired surrogate');
    const low = this.hex4();
    if (low < 0xdc00 || low > 0xdfff) this.fail('unpaired surrogate');
    return String.fromCharCode(unit, low);
  }

  private hex4(): number {
    const hex = this.text.slice(this.pos + 2, this.pos + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
    this.pos += 6;
    return Number.parseInt(hex, 16);
  }
}

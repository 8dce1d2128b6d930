/**
 * A JSON document model that can say what `JSON.stringify` cannot: duplicate keys, number
 * literals beyond doubles (`9223372036854775808`, `1e400`, `-0`), and verbatim fragments.
 * The fuzzers build request bodies in it, mutate them, then serialise them to bytes.
 */
export type JsonNode = null | boolean | string | RawJson | readonly JsonNode[] | JsonObject;

/** An object as an ordered list of entries, so a key may appear twice. */
export interface JsonObject {
  readonly entries: readonly (readonly [string, JsonNode])[];
}

/** A fragment written verbatim, e.g. a number literal no JavaScript number can hold. */
export class RawJson {
  public readonly text: string;

  public constructor(text: string) {
    this.text = text;
  }
}

/** Builds a {@link JsonObject} from a plain object (nested plain objects converted too). */
export function fromPlain(value: unknown): JsonNode {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return new RawJson(JSON.stringify(value));
  if (Array.isArray(value)) return value.map(fromPlain);
  if (typeof value === 'object') {
    return { entries: Object.entries(value).map(([k, v]) => [k, fromPlain(v)] as const) };
  }
  throw new TypeError(`cannot model ${typeof value}`);
}

/** Whether `node` is an object node. */
export function isObject(node: JsonNode): node is JsonObject {
  return (
    typeof node === 'object' && node !== null && !Array.isArray(node) && !(node instanceof RawJson)
  );
}

/**
 * Serialises `node`. Strings go through `JSON.stringify`, which escapes lone surrogates
 * (`"\ud800"`) and leaves U+2028/U+2029 raw, as a JavaScript client would send them.
 */
export function serialize(node: JsonNode): string {
  if (node === null) return 'null';
  if (typeof node === 'boolean') return node ? 'true' : 'false';
  if (typeof node === 'string') return JSON.stringify(node);
  if (node instanceof RawJson) return node.text;
  if (isObject(node)) {
    return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  }
  return `[${node.map(serialize).join(',')}]`;
}

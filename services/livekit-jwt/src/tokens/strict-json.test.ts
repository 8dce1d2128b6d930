import { describe, expect, it } from 'vitest';
import { JsonNumber, JsonSyntaxError, MAX_JSON_DEPTH, parseStrictJson } from './strict-json.ts';

const parse = (text: string | Uint8Array) =>
  parseStrictJson(typeof text === 'string' ? new TextEncoder().encode(text) : text);

describe('parseStrictJson', () => {
  it('should parse objects, arrays, strings, literals and keep numbers as literal text', () => {
    const value = parse(
      ' {"a": [1, -2.5e3, true, false, null], "b": "x\\u00e9\\n\\ud83d\\ude00"} ',
    );
    expect(value).toEqual({
      a: [new JsonNumber('1'), new JsonNumber('-2.5e3'), true, false, null],
      b: 'xé\n😀',
    });
  });

  it('should accept what JSON.parse accepts for ordinary documents', () => {
    for (const text of [
      'null',
      '"s"',
      '[]',
      '{}',
      '{"a":{"b":{"c":[]}}}',
      '"\\/\\b\\f\\r\\t\\"\\\\"',
    ]) {
      expect(JSON.stringify(parse(text))).toBe(JSON.stringify(JSON.parse(text)));
    }
  });

  it.each([
    ['empty input', ''],
    ['only whitespace', '  \n'],
    ['trailing garbage', '{}garbage'],
    ['two documents', '{} {}'],
    ['duplicate keys', '{"a":"x","a":"y"}'],
    ['duplicate nested keys', '{"o":{"k":1,"k":2}}'],
    ['single quotes', "{'a':1}"],
    ['unquoted key', '{a:1}'],
    ['trailing comma', '{"a":1,}'],
    ['leading zero', '01'],
    ['bare minus', '-'],
    ['NaN', 'NaN'],
    ['control character in string', '"a\u0001b"'],
    ['invalid escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'],
    ['lone high surrogate', '"\\ud800"'],
    ['lone low surrogate', '"\\udc00"'],
    ['high surrogate then text', '"\\ud800x"'],
    ['unterminated string', '"abc'],
    ['unterminated object', '{"a":1'],
    ['byte-order mark', '\ufeff{}'],
    ['comment', '{} // c'],
  ])('should refuse %s', (_name, text) => {
    expect(() => parse(text)).toThrow(JsonSyntaxError);
  });

  it('should refuse invalid UTF-8', () => {
    expect(() => parse(Uint8Array.from([0x22, 0xff, 0xfe, 0x22]))).toThrow(JsonSyntaxError);
    expect(() => parse(Uint8Array.from([0x22, 0xc3, 0x22]))).toThrow(JsonSyntaxError);
    // An encoded surrogate (CESU-8 style) is not UTF-8 either.
    expect(() => parse(Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toThrow(JsonSyntaxError);
  });

  it('should refuse nesting deeper than the limit without overflowing the stack', () => {
    expect(() => parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parse('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toThrow(
      /nesting/,
    );
    expect(() => parse('{"a":'.repeat(100_000))).toThrow(JsonSyntaxError);
  });

  it('should not let "__proto__" keys touch prototypes', () => {
    const value = parse('{"__proto__":{"polluted":"yes"}}') as Record<string, unknown>;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ifNoneMatch, staticDocument } from './static-document.ts';

describe('staticDocument', () => {
  it('should serialise once and derive a quoted strong ETag from the body', () => {
    const a = staticDocument({ 'm.server': 'example.org:443' });
    expect(a.body).toBe('{"m.server":"example.org:443"}');
    expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(staticDocument({ 'm.server': 'example.org:443' }).etag).toBe(a.etag);
    expect(staticDocument({ 'm.server': 'example.org:8448' }).etag).not.toBe(a.etag);
  });
});

describe('ifNoneMatch', () => {
  const etag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['*', true],
    ['"abd"', false],
    ['abc', false],
    [undefined, false],
  ])('should treat %s as %s', (header, expected) => {
    expect(ifNoneMatch(header, etag)).toBe(expected);
  });
});

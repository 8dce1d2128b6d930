import { describe, expect, it } from 'vitest';
import { parseUserId } from './user-id.ts';

describe('parseUserId', () => {
  it.each([
    ['@alice:example.org', 'alice', 'example.org'],
    ['@alice:example.org:8448', 'alice', 'example.org:8448'],
    ['@bob:127.0.0.1:6167', 'bob', '127.0.0.1:6167'],
    ['@carol:[::1]:8448', 'carol', '[::1]:8448'],
    ['@a.b_c=d-e/f+g:example.org', 'a.b_c=d-e/f+g', 'example.org'],
    ['@Historical!User:example.org', 'Historical!User', 'example.org'],
  ])('should split %s', (raw, localpart, server) => {
    const id = parseUserId(raw);
    expect(id?.localpart).toBe(localpart);
    expect(id?.serverName.raw).toBe(server);
  });

  it.each([
    ['no sigil', 'alice:example.org'],
    ['room sigil', '!room:example.org'],
    ['no server', '@alice'],
    ['empty localpart', '@:example.org'],
    ['empty server', '@alice:'],
    ['space', '@al ice:example.org'],
    ['non-ASCII', '@alïce:example.org'],
    ['control character', '@al\u0000ice:example.org'],
    ['invalid server', '@alice:exa_mple.org'],
    ['too long', `@${'a'.repeat(250)}:example.org`],
    ['not a string', 42],
    ['null', null],
  ])('should refuse %s', (_label, raw) => {
    expect(parseUserId(raw)).toBeUndefined();
  });
});

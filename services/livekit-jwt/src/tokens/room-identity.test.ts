import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  hashParts,
  legacyIdentity,
  legacyRoomAlias,
  participantIdentity,
  roomAlias,
} from './room-identity.ts';

describe('roomAlias', () => {
  it('should match the MSC4195 room vector', () => {
    expect(roomAlias('!roomid:example.com', 'slot1234')).toBe(
      'O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc',
    );
  });

  it('should match the reference vectors for other slots and rooms', () => {
    expect(roomAlias('!room:example.com', 'm.call#')).toBe(
      'hrQ0l3fv1RI0sCBUn3Nu59Bu/b3f7hWXbMLLfFMLNOY',
    );
    expect(roomAlias('', '')).toBe('Q5CD84lWulHs6QYxVSxuojxcKVcNPVcQ5AjnfgG6c3U');
  });
});

describe('legacyRoomAlias', () => {
  it('should hash the room with the m.call#ROOM slot', () => {
    expect(legacyRoomAlias('!room:example.com')).toBe(
      'krj2dgxw2K6EOm9he4GfQJ6JsSVWfJ8a7BkyjZcSmxs',
    );
    expect(legacyRoomAlias('!testRoom:example.com')).toBe(
      '/lBTLIGR4z7th3MC5UJfOWFVTGaX5H47h23RgN7n1aw',
    );
  });

  it('should equal the /get_token alias of the m.call#ROOM slot', () => {
    expect(legacyRoomAlias('!abc:example.org')).toBe(roomAlias('!abc:example.org', 'm.call#ROOM'));
  });
});

describe('participantIdentity', () => {
  it('should match the MSC4195 three-element identity vector', () => {
    expect(participantIdentity('@alice:example.com', 'DEVICE123', 'memberABC')).toBe(
      'J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU',
    );
  });
});

describe('legacyIdentity', () => {
  it('should join user and device with a colon, unhashed', () => {
    expect(legacyIdentity('@alice:example.com', 'DEVICE')).toBe('@alice:example.com:DEVICE');
    expect(legacyIdentity('@alice:example.com', '')).toBe('@alice:example.com:');
  });
});

describe('hashParts', () => {
  const sha = (text: string) =>
    createHash('sha256').update(text, 'utf8').digest('base64').replace(/=+$/, '');

  it('should hash <, > and & unescaped, as JSON.stringify serialises them (not as Go did)', () => {
    // Go's json.Marshal gave BlPHg/JCOxLQr20ttEizBQLd7Bhh5m+r3M8rO3ejvzo for this input.
    expect(hashParts(['!a&b:example.com', 'm.call#ROOM'])).toBe(
      'BaxXL6saSq+gSL5me/YDg7iH7KCueJy1DyzHVuUuqCk',
    );
    expect(hashParts(['!a&b:example.com', 'm.call#ROOM'])).toBe(
      sha('["!a&b:example.com","m.call#ROOM"]'),
    );
    expect(hashParts(['!<script>:example.com', 'slot'])).toBe(
      sha('["!<script>:example.com","slot"]'),
    );
    expect(hashParts(['@a>b:example.com', 'DEV<1>', 'm&m'])).toBe(
      sha('["@a>b:example.com","DEV<1>","m&m"]'),
    );
  });

  it('should escape quotes, backslashes and control characters as JSON.stringify does', () => {
    expect(hashParts(['a"b\\c', '\n\u0001'])).toBe(sha('["a\\"b\\\\c","\\n\\u0001"]'));
  });

  it('should be unpadded standard base64 of 43 characters', () => {
    for (const parts of [['a'], ['', ''], ['x', 'y', 'z'], ['ü', '😀']]) {
      const hash = hashParts(parts);
      expect(hash).toMatch(/^[A-Za-z0-9+/]{43}$/);
    }
  });
});

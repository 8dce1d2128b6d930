import { describe, expect, it } from 'vitest';
import { normalizeTurnUris } from './normalize-turn-uris.ts';
import { formatTurnUri, parseTurnUri, turnUriPort, TurnUriError } from './turn-uri.ts';

describe('parseTurnUri', () => {
  it.each([
    ['turn:turn.example.org', { scheme: 'turn', host: 'turn.example.org' }, 3478],
    ['turns:turn.example.org', { scheme: 'turns', host: 'turn.example.org' }, 5349],
    [
      'turn:turn.example.org:3478?transport=udp',
      { scheme: 'turn', host: 'turn.example.org', port: 3478, transport: 'udp' },
      3478,
    ],
    [
      'TURN:Turn.Example.ORG:443?transport=TCP',
      { scheme: 'turn', host: 'turn.example.org', port: 443, transport: 'tcp' },
      443,
    ],
    ['stun:192.0.2.1:19302', { scheme: 'stun', host: '192.0.2.1', port: 19302 }, 19302],
    ['stuns:stun.example.org', { scheme: 'stuns', host: 'stun.example.org' }, 5349],
    ['turn:[2001:db8::1]:3478', { scheme: 'turn', host: '2001:db8::1', port: 3478 }, 3478],
    ['turn:[::1]', { scheme: 'turn', host: '::1' }, 3478],
  ])('should parse %s', (text, expected, port) => {
    const uri = parseTurnUri(text);
    expect(uri).toEqual(expected);
    expect(turnUriPort(uri)).toBe(port);
  });

  it.each([
    ['turn://turn.example.org:3478', /without "\/\/"/],
    ['http://turn.example.org', /must start with turn:/],
    ['turn.example.org:3478', /must start with turn:/],
    ['turn:', /host is missing/],
    ['turn::3478', /host is missing/],
    ['turn:user@turn.example.org', /no user, path or spaces/],
    ['turn:turn.example.org/path', /no user, path or spaces/],
    ['turn:turn example.org', /white space/],
    ['turn:turn.example.org:0', /not a port number/],
    ['turn:turn.example.org:65536', /not a port number/],
    ['turn:turn.example.org:abc', /not a port number/],
    ['turn:turn.example.org?transport=sctp', /unknown transport "sctp"/],
    ['turn:turn.example.org?foo=bar', /is not "\?transport=udp\|tcp"/],
    ['stun:stun.example.org?transport=udp', /STUN URI takes no query/],
    ['turn:2001:db8::1', /must be written in brackets/],
    ['turn:[2001:db8::1', /unclosed/],
    ['turn:[not-v6]:3478', /is not an IPv6 address/],
    ['turn:bad_host!.org', /not a host name/],
    ['turn:999.1.1.1', /not a host name or IPv4 address/],
  ])('should reject %s', (text, message) => {
    expect(() => parseTurnUri(text)).toThrow(message);
  });
});

describe('formatTurnUri', () => {
  it('should write the canonical form, bracketing IPv6', () => {
    expect(
      formatTurnUri({ scheme: 'turns', host: '2001:db8::1', port: 5349, transport: 'tcp' }),
    ).toBe('turns:[2001:db8::1]:5349?transport=tcp');
    expect(formatTurnUri(parseTurnUri(' TURN:Example.org '))).toBe('turn:example.org');
  });
});

describe('normalizeTurnUris', () => {
  const udp = 'turn:turn.example.org:3478?transport=udp';
  const tcp = 'turn:turn.example.org:3478?transport=tcp';

  it.each([
    ['a JSON array', `["${udp}", "${tcp}"]`, [udp, tcp]],
    ['the seed comma-separated string', `${udp},${tcp}`, [udp, tcp]],
    ['a comma list with spaces', ` ${udp} , ${tcp} `, [udp, tcp]],
    ['a single URI', udp, [udp]],
    ['a JSON array with YAML-escaped quotes', `[\\"${udp}\\", \\"${tcp}\\"]`, [udp, tcp]],
    ['duplicates and case', `${udp},TURN:turn.example.org:3478?transport=UDP`, [udp]],
    [
      'a turns URI',
      'turns:turn.example.org:5349?transport=tcp',
      ['turns:turn.example.org:5349?transport=tcp'],
    ],
  ])('should accept %s', (_name, input, expected) => {
    expect(normalizeTurnUris(input)).toEqual(expected);
  });

  it('should accept an array of strings', () => {
    expect(normalizeTurnUris([udp, ` ${tcp}`])).toEqual([udp, tcp]);
  });

  it.each([
    ['an empty string', '', /no URI given/],
    ['an empty JSON array', '[]', /no URI given/],
    ['a stray comma', `${udp},`, /empty entry/],
    ['a bad entry in a list', `${udp},turn://x.org`, /"turn:\/\/x.org".*without "\/\/"/],
    ['a bad entry in a JSON array', `["${udp}", "turns:x.org:99999"]`, /"turns:x.org:99999".*port/],
    ['a non-string in a JSON array', `["${udp}", 3478]`, /"3478".*entry 2 of the JSON array/],
    ['broken JSON', `["${udp}"`, /starts with "\[" but is not a JSON array/],
    ['a JSON object', `{"uris": ["${udp}"]}`, /JSON object is not a list/],
    ['a space-separated list', `${udp} ${tcp}`, /several URIs run together/],
    ['a semicolon-separated list', `${udp};${tcp}`, /several URIs run together/],
    ['a STUN URI', 'stun:stun.example.org', /"stun:stun.example.org".*not a TURN URI/],
  ])('should reject %s', (_name, input, message) => {
    expect(() => normalizeTurnUris(input)).toThrow(TurnUriError);
    expect(() => normalizeTurnUris(input)).toThrow(message);
  });

  it('should accept STUN URIs when asked to', () => {
    expect(normalizeTurnUris('stun:stun.example.org', { allowStun: true })).toEqual([
      'stun:stun.example.org',
    ]);
  });

  it('should produce the JSON array form the homeserver needs', () => {
    expect(JSON.stringify(normalizeTurnUris(`${udp},${tcp}`))).toBe(`["${udp}","${tcp}"]`);
  });
});

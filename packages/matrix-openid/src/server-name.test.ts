import { describe, expect, it } from 'vitest';
import { formatAuthority, isValidServerName, parseServerName } from './server-name.ts';

describe('parseServerName', () => {
  it.each([
    ['example.org', { host: 'example.org', kind: 'dns', port: undefined }],
    ['matrix.example.org:8448', { host: 'matrix.example.org', kind: 'dns', port: 8448 }],
    ['localhost', { host: 'localhost', kind: 'dns', port: undefined }],
    ['1.2.3.4', { host: '1.2.3.4', kind: 'ipv4', port: undefined }],
    ['1.2.3.4:1234', { host: '1.2.3.4', kind: 'ipv4', port: 1234 }],
    ['[1234:5678::abcd]', { host: '1234:5678::abcd', kind: 'ipv6', port: undefined }],
    ['[1234:5678::abcd]:5678', { host: '1234:5678::abcd', kind: 'ipv6', port: 5678 }],
    ['[::ffff:127.0.0.1]', { host: '::ffff:127.0.0.1', kind: 'ipv6', port: undefined }],
    ['a-b.example.org.', { host: 'a-b.example.org.', kind: 'dns', port: undefined }],
    ['example.org:65535', { host: 'example.org', kind: 'dns', port: 65535 }],
  ])('should parse %s', (raw, expected) => {
    expect(parseServerName(raw)).toEqual({ raw, ...expected });
  });

  it.each([
    '',
    ':8448',
    'example.org:',
    'example.org:0',
    'example.org:65536',
    'example.org:123456',
    'example.org:+80',
    'example.org:80a',
    'exa mple.org',
    'example_org',
    'exämple.org',
    'a..b',
    '.example.org',
    '1234:5678::abcd',
    '[1234:5678::abcd',
    '[1234:5678::abcd]x',
    '[fe80::1%eth0]',
    '[not-ip]',
    '999.1.1.1',
    'a'.repeat(256),
    'user@example.org',
    'example.org/path',
  ])('should refuse %j', (raw) => {
    expect(parseServerName(raw)).toBeUndefined();
    expect(isValidServerName(raw)).toBe(false);
  });

  it('should refuse non-strings without throwing', () => {
    expect(parseServerName(42 as unknown as string)).toBeUndefined();
  });
});

describe('formatAuthority', () => {
  it('should bracket IPv6 and add the port only when given', () => {
    expect(formatAuthority('2001:db8::1', 8448)).toBe('[2001:db8::1]:8448');
    expect(formatAuthority('2001:db8::1', undefined)).toBe('[2001:db8::1]');
    expect(formatAuthority('example.org', undefined)).toBe('example.org');
    expect(formatAuthority('192.0.2.1', 443)).toBe('192.0.2.1:443');
  });
});

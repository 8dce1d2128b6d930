import { describe, expect, it } from 'vitest';
import { parseOpenIdOverrides } from './openid-overrides.ts';

describe('parseOpenIdOverrides', () => {
  it('should parse several entries and drop trailing slashes', () => {
    const overrides = parseOpenIdOverrides(
      'example.org=http://continuwuity:6167, other.org:8448=https://matrix.other.org/prefix/,',
    );
    expect([...overrides]).toEqual([
      ['example.org', 'http://continuwuity:6167'],
      ['other.org:8448', 'https://matrix.other.org/prefix'],
    ]);
  });

  it('should give an empty map for an empty or blank value', () => {
    expect(parseOpenIdOverrides('').size).toBe(0);
    expect(parseOpenIdOverrides('  , ').size).toBe(0);
  });

  it('should accept IP-literal server names', () => {
    expect(parseOpenIdOverrides('[::1]:8448=http://[::1]:6167').get('[::1]:8448')).toBe(
      'http://[::1]:6167',
    );
  });

  it.each([
    ['example.org', /"example\.org" is not of the form server_name=base_url/],
    ['exa_mple.org=http://x', /"exa_mple\.org" is not a valid Matrix server name/],
    ['=http://x', /"" is not a valid Matrix server name/],
    ['example.org=continuwuity:6167', /"example\.org=continuwuity:6167".*http:\/\/ or https:\/\//],
    ['example.org=not a url', /"not a url" is not an absolute URL/],
    ['example.org=ftp://x', /must be http:\/\/ or https:\/\//],
    ['example.org=http://x/?a=1', /must not carry .*a query/],
    ['example.org=http://x/#f', /fragment/],
    ['a.org=http://x,a.org=http://y', /"a\.org" is listed twice/],
  ])('should refuse %j', (raw, message) => {
    expect(() => parseOpenIdOverrides(raw)).toThrow(message);
  });

  it('should not echo credentials of a refused URL', () => {
    expect(() => parseOpenIdOverrides('example.org=http://user:hunter2@x')).toThrow(
      /^OpenID override for "example\.org": the URL must not carry credentials/,
    );
    try {
      parseOpenIdOverrides('example.org=http://user:hunter2@x');
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { isProxyName, TrustedProxies } from './trusted-proxies.ts';

describe('TrustedProxies', () => {
  it('should trust a named proxy at the addresses it resolves to, refreshed', async () => {
    let answer: readonly string[] = ['172.18.0.2'];
    const proxies = new TrustedProxies(['traefik', 'loopback'], () => Promise.resolve(answer));
    expect(proxies.trusts('172.18.0.2')).toBe(false);
    await proxies.refresh();
    expect(proxies.trusts('172.18.0.2')).toBe(true);
    expect(proxies.trusts('::ffff:172.18.0.2')).toBe(true);
    expect(proxies.trusts('172.18.0.3')).toBe(false);
    expect(proxies.trusts('127.0.0.1')).toBe(true);
    answer = ['172.18.0.7'];
    await proxies.refresh();
    expect(proxies.trusts('172.18.0.2')).toBe(false);
    expect(proxies.trusts('172.18.0.7')).toBe(true);
  });

  it('should keep the last addresses while the name does not resolve', async () => {
    let fail = false;
    const proxies = new TrustedProxies(['traefik'], () =>
      fail ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(['10.1.2.3']),
    );
    await proxies.refresh();
    fail = true;
    await proxies.refresh();
    expect(proxies.trusts('10.1.2.3')).toBe(true);
  });

  it('should match addresses, CIDRs and keywords as before', () => {
    const proxies = new TrustedProxies(['10.0.0.1', '192.168.0.0/16', 'uniquelocal']);
    expect(proxies.trusts('10.0.0.1')).toBe(true);
    expect(proxies.trusts('192.168.4.4')).toBe(true);
    expect(proxies.trusts('172.31.0.1')).toBe(true);
    expect(proxies.trusts('203.0.113.1')).toBe(false);
    expect(proxies.trusts('not-an-address')).toBe(false);
  });

  it('should tell names from addresses and keywords', () => {
    expect(['traefik', 'runtipi-reverse-proxy'].map(isProxyName)).toEqual([true, true]);
    expect(['10.0.0.1', '10.0.0.0/8', '::1', 'loopback'].map(isProxyName)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

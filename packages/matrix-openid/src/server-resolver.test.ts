import { describe, expect, it } from 'vitest';
import { type DnsResolver, type SrvRecord } from './dns-resolver.ts';
import { parseServerName, type ServerName } from './server-name.ts';
import { createServerResolver, type WellKnownResult } from './server-resolver.ts';

function name(raw: string): ServerName {
  const parsed = parseServerName(raw);
  if (parsed === undefined) throw new Error(`bad test name ${raw}`);
  return parsed;
}

function setup(options: {
  wellKnown?: Record<string, WellKnownResult>;
  srv?: Record<string, SrvRecord[]>;
}) {
  const clock = { now: 1_000_000 };
  const calls = { wellKnown: [] as string[], srv: [] as string[] };
  const dns: DnsResolver = {
    lookup: () => Promise.reject(new Error('not used')),
    resolveSrv: (n) => {
      calls.srv.push(n);
      const records = options.srv?.[n];
      return records === undefined
        ? Promise.reject(Object.assign(new Error('queryNotFound'), { code: 'ENOTFOUND' }))
        : Promise.resolve(records);
    },
  };
  const resolver = createServerResolver({
    dns,
    fetchWellKnown: (hostname) => {
      calls.wellKnown.push(hostname);
      return Promise.resolve(options.wellKnown?.[hostname] ?? { failure: 'HTTP 404' });
    },
    failureTtlMs: 60_000,
    maxEntries: 2,
    now: () => clock.now,
  });
  return { resolver, calls, clock };
}

const srv = (target: string, port: number, priority = 0, weight = 0): SrvRecord => ({
  name: target,
  port,
  priority,
  weight,
});

describe('createServerResolver', () => {
  it('should use IP literals directly, port 8448 by default, with no lookups', async () => {
    const { resolver, calls } = setup({});
    await expect(resolver.resolve(name('192.0.2.1'))).resolves.toEqual([
      { host: '192.0.2.1', port: 8448, hostHeader: '192.0.2.1', via: 'IP literal' },
    ]);
    await expect(resolver.resolve(name('[2001:db8::1]:443'))).resolves.toEqual([
      { host: '2001:db8::1', port: 443, hostHeader: '[2001:db8::1]:443', via: 'IP literal' },
    ]);
    expect(calls).toEqual({ wellKnown: [], srv: [] });
  });

  it('should use an explicit port directly, with no well-known', async () => {
    const { resolver, calls } = setup({});
    await expect(resolver.resolve(name('example.org:8443'))).resolves.toEqual([
      { host: 'example.org', port: 8443, hostHeader: 'example.org:8443', via: 'explicit port' },
    ]);
    expect(calls.wellKnown).toEqual([]);
  });

  it('should follow a delegation with a port, keeping the delegated name as Host', async () => {
    const { resolver, calls } = setup({
      wellKnown: { 'example.org': { delegatedTo: 'matrix.example.org:443', ttlMs: 3_600_000 } },
    });
    await expect(resolver.resolve(name('example.org'))).resolves.toEqual([
      {
        host: 'matrix.example.org',
        port: 443,
        hostHeader: 'matrix.example.org:443',
        via: 'well-known → matrix.example.org:443, explicit port',
      },
    ]);
    expect(calls.srv).toEqual([]);
  });

  it('should look up SRV for a delegated name without a port, Host staying the delegated name', async () => {
    const { resolver, calls } = setup({
      wellKnown: { 'example.org': { delegatedTo: 'matrix.example.org', ttlMs: 3_600_000 } },
      srv: {
        '_matrix-fed._tcp.matrix.example.org': [
          srv('b.example.net.', 8449, 10),
          srv('a.example.net.', 8448, 5),
        ],
      },
    });
    const via = 'well-known → matrix.example.org, SRV _matrix-fed._tcp.matrix.example.org';
    await expect(resolver.resolve(name('example.org'))).resolves.toEqual([
      { host: 'a.example.net', port: 8448, hostHeader: 'matrix.example.org', via },
      { host: 'b.example.net', port: 8449, hostHeader: 'matrix.example.org', via },
    ]);
    expect(calls.srv).toEqual(['_matrix-fed._tcp.matrix.example.org']);
  });

  it('should fall back to the deprecated _matrix._tcp, then to port 8448', async () => {
    const { resolver, calls } = setup({
      srv: { '_matrix._tcp.old.org': [srv('hs.old.org', 1234)] },
    });
    await expect(resolver.resolve(name('old.org'))).resolves.toEqual([
      {
        host: 'hs.old.org',
        port: 1234,
        hostHeader: 'old.org',
        via: 'no well-known (HTTP 404), SRV _matrix._tcp.old.org',
      },
    ]);
    await expect(resolver.resolve(name('plain.org'))).resolves.toEqual([
      {
        host: 'plain.org',
        port: 8448,
        hostHeader: 'plain.org',
        via: 'no well-known (HTTP 404), no SRV, port 8448',
      },
    ]);
    expect(calls.srv).toEqual([
      '_matrix-fed._tcp.old.org',
      '_matrix._tcp.old.org',
      '_matrix-fed._tcp.plain.org',
      '_matrix._tcp.plain.org',
    ]);
  });

  it('should treat an SRV target of "." as no service', async () => {
    const { resolver } = setup({ srv: { '_matrix-fed._tcp.none.org': [srv('.', 0)] } });
    await expect(resolver.resolve(name('none.org'))).resolves.toEqual([
      expect.objectContaining({ host: 'none.org', port: 8448, hostHeader: 'none.org' }),
    ]);
  });

  it('should cache a delegation for its lifetime', async () => {
    const { resolver, calls, clock } = setup({
      wellKnown: { 'example.org': { delegatedTo: 'hs.example.org:443', ttlMs: 3_600_000 } },
    });
    await resolver.resolve(name('example.org'));
    clock.now += 3_599_000;
    await resolver.resolve(name('example.org'));
    expect(calls.wellKnown).toEqual(['example.org']);
    clock.now += 2_000;
    await resolver.resolve(name('example.org'));
    expect(calls.wellKnown).toEqual(['example.org', 'example.org']);
  });

  it('should cache a missing well-known only briefly', async () => {
    const { resolver, calls, clock } = setup({});
    await resolver.resolve(name('example.org'));
    clock.now += 30_000;
    await resolver.resolve(name('example.org'));
    expect(calls.wellKnown).toHaveLength(1);
    clock.now += 31_000;
    await resolver.resolve(name('example.org'));
    expect(calls.wellKnown).toHaveLength(2);
  });

  it('should share one lookup between concurrent callers', async () => {
    const { resolver, calls } = setup({});
    await Promise.all([resolver.resolve(name('a.org')), resolver.resolve(name('a.org'))]);
    expect(calls.wellKnown).toEqual(['a.org']);
  });

  it('should ignore an invalid delegated name as a failure', async () => {
    const { resolver } = setup({
      wellKnown: { 'bad.org': { delegatedTo: 'not a name', ttlMs: 3_600_000 } },
    });
    await expect(resolver.resolve(name('bad.org'))).resolves.toEqual([
      {
        host: 'bad.org',
        port: 8448,
        hostHeader: 'bad.org',
        via: 'no well-known (invalid m.server), no SRV, port 8448',
      },
    ]);
  });

  it('should evict the oldest names beyond maxEntries', async () => {
    const { resolver, calls } = setup({});
    for (const n of ['a.org', 'b.org', 'c.org', 'a.org']) await resolver.resolve(name(n));
    expect(calls.wellKnown).toEqual(['a.org', 'b.org', 'c.org', 'a.org']);
  });
});

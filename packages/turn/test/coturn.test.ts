import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTurnRelay } from '../src/check-turn-relay.ts';
import type { TransportAddress } from '../src/stun-attributes.ts';
import { TurnClient } from '../src/turn-client.ts';
import { createTurnCredentials } from '../src/turn-credentials.ts';
import { TurnError } from '../src/turn-error.ts';
import { type CoturnInstance, startCoturnInstance, startEchoPeer } from './coturn-instance.ts';

const secret = (): string => randomBytes(24).toString('hex');
const CURRENT = secret();
const PREVIOUS = secret();
const RETIRED = secret();

function credentials(user: string, key = CURRENT, nowMs = Date.now()) {
  return createTurnCredentials({ secret: key, user, ttlSeconds: 600, now: nowMs });
}

/** coturn writes its log from its own threads: give the line a moment to reach the pipe. */
async function logged(coturn: CoturnInstance, text: string): Promise<string> {
  for (let i = 0; i < 50 && !coturn.process.output().includes(text); i++) await sleep(50);
  return coturn.process.output();
}

async function allocationError(
  uri: string,
  username: string,
  password: string,
): Promise<TurnError> {
  const client = await TurnClient.connect({ uri, username, password });
  try {
    await client.allocate();
  } catch (err) {
    expect(err).toBeInstanceOf(TurnError);
    return err as TurnError;
  } finally {
    await client.close();
  }
  throw new Error('Allocate succeeded where it should have failed');
}

describe('TurnClient against coturn (loopback peers allowed, two secrets)', () => {
  let coturn: CoturnInstance;
  let peer: Awaited<ReturnType<typeof startEchoPeer>>;
  let peerAddress: TransportAddress;

  beforeAll(async () => {
    coturn = await startCoturnInstance({ secrets: [CURRENT, PREVIOUS], allowLoopbackPeers: true });
    peer = await startEchoPeer();
    peerAddress = { family: 'IPv4', address: '127.0.0.1', port: peer.port };
  });
  afterAll(async () => {
    await peer.close();
    await coturn.stop();
  });

  it.each(['udp', 'tcp'] as const)(
    'should allocate with a fresh credential and relay data to a peer and back over %s',
    async (transport) => {
      const client = await TurnClient.connect({
        uri: coturn.uri(transport),
        ...credentials('@alice:example.org'),
      });
      expect(client.protocol).toBe(transport);
      const allocation = await client.allocate();
      expect(client.realm).toBe('turn.test');
      expect(client.software).toMatch(/^Coturn-/);
      expect(allocation.relayed.address).toBe('127.0.0.1');
      expect(allocation.relayed.port).toBeGreaterThanOrEqual(coturn.relayPorts.min);
      expect(allocation.relayed.port).toBeLessThanOrEqual(coturn.relayPorts.max);
      expect(allocation.mapped?.address).toBe('127.0.0.1');
      expect(allocation.lifetime).toBeGreaterThan(0);

      await client.createPermission(peerAddress);
      const payload = randomBytes(32);
      const received = new Promise<{ data: Buffer; from: TransportAddress }>((resolve) => {
        client.onData((data, from) => {
          resolve({ data, from });
        });
      });
      await client.send(peerAddress, payload);
      const back = await received;
      expect(back.data).toEqual(payload);
      expect(back.from).toEqual(peerAddress);
      // The peer saw the datagram come from the relayed address, not from the client.
      expect(peer.senders).toContainEqual({ address: '127.0.0.1', port: allocation.relayed.port });

      await client.close();
      expect(client.allocation).toBeUndefined();
    },
  );

  it('should answer a Binding with the mapped address', async () => {
    const client = await TurnClient.connect({ uri: `stun:127.0.0.1:${coturn.port}` });
    const mapped = await client.binding();
    expect(mapped).toMatchObject({ family: 'IPv4', address: '127.0.0.1' });
    await client.close();
  });

  it.each(['udp', 'tcp'] as const)(
    'should pass checkTurnRelay over %s with and without an echo peer',
    async (transport) => {
      const c = credentials('@bob:example.org');
      const withPeer = await checkTurnRelay({
        uri: coturn.uri(transport),
        ...c,
        peer: peerAddress,
      });
      expect(withPeer).toMatchObject({ ok: true, step: 'done', protocol: transport });
      expect(withPeer.relayed?.address).toBe('127.0.0.1');
      const selfPeer = await checkTurnRelay({ uri: coturn.uri(transport), ...c });
      expect(selfPeer).toMatchObject({ ok: true, step: 'done' });
    },
  );

  it('should delete the allocation with Refresh lifetime 0', async () => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials('@carol:example.org'),
    });
    await client.allocate();
    expect(await client.refresh(0)).toBe(0);
    expect(client.allocation).toBeUndefined();
    // coturn 4.6 frees the allocation on its next timer tick (within about a second); until then
    // it still answers for it. Afterwards a request on this 5-tuple has no allocation to act on.
    let error: unknown;
    for (let i = 0; i < 50 && error === undefined; i++) {
      await sleep(100);
      error = await client.createPermission(peerAddress).catch((e: unknown) => e);
    }
    expect(error).toBeInstanceOf(TurnError);
    expect([400, 437]).toContain((error as TurnError).code);
    await client.close();
  });

  it('should refuse an expired credential with 401', async () => {
    const expired = createTurnCredentials({
      secret: CURRENT,
      user: '@dave:example.org',
      ttlSeconds: 60,
      now: Date.now() - 3_600_000,
    });
    const err = await allocationError(coturn.uri('udp'), expired.username, expired.password);
    expect(err).toMatchObject({ kind: 'error-response', code: 401, method: 'Allocate' });
    expect(err.message).toBe('Allocate failed: 401 Unauthorized');
  });

  it('should refuse a wrong password with 401', async () => {
    const c = credentials('@erin:example.org');
    const wrong = `${c.password.startsWith('A') ? 'B' : 'A'}${c.password.slice(1)}`;
    expect((await allocationError(coturn.uri('tcp'), c.username, wrong)).code).toBe(401);
  });

  it('should refuse a credential made with a retired secret with 401', async () => {
    const c = credentials('@frank:example.org', RETIRED);
    expect((await allocationError(coturn.uri('udp'), c.username, c.password)).code).toBe(401);
  });

  it('should accept credentials from both secrets during a rotation', async () => {
    for (const key of [CURRENT, PREVIOUS]) {
      const client = await TurnClient.connect({
        uri: coturn.uri('udp'),
        ...credentials('@grace:example.org', key),
      });
      expect((await client.allocate()).relayed.address).toBe('127.0.0.1');
      await client.close();
    }
  });

  it('should still refuse loopback addresses the deny list covers (allowed-peer-ip is 127.0.0.1 alone)', async () => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials('@heidi:example.org'),
    });
    await client.allocate();
    await expect(client.createPermission('127.0.0.2')).rejects.toMatchObject({ code: 403 });
    await client.close();
    const line = 'A peer IP 127.0.0.2 denied in the range: 127.0.0.0-127.255.255.255';
    expect(await logged(coturn, line)).toContain(line);
  });
});

describe('TurnClient against coturn over TLS (turns:)', () => {
  let coturn: CoturnInstance;

  beforeAll(async () => {
    coturn = await startCoturnInstance({ secrets: [CURRENT], allowLoopbackPeers: true, tls: true });
  });
  afterAll(async () => {
    await coturn.stop();
  });

  it('should allocate and relay through a turns: URI, trusting the server certificate', async () => {
    const tls = coturn.tls!;
    const result = await checkTurnRelay({
      uri: `turns:127.0.0.1:${tls.port}?transport=tcp`,
      ...credentials('@tls:example.org'),
      tls: { ca: tls.cert },
    });
    expect(result).toMatchObject({ ok: true, step: 'done', protocol: 'tls' });
    expect(result.relayed?.address).toBe('127.0.0.1');
  });

  it('should fail at connect with a network error when the certificate is not trusted', async () => {
    const result = await checkTurnRelay({
      uri: `turns:127.0.0.1:${coturn.tls!.port}`,
      ...credentials('@tls:example.org'),
    });
    expect(result).toMatchObject({ ok: false, step: 'connect' });
    expect(result.error).toMatchObject({ kind: 'network' });
    expect(result.error?.message).toMatch(/self-signed certificate/);
  });
});

describe('TurnClient against coturn (production deny list, no loopback peers)', () => {
  let coturn: CoturnInstance;

  beforeAll(async () => {
    coturn = await startCoturnInstance({
      secrets: [CURRENT],
      allowLoopbackPeers: false,
      userQuota: 1,
      staleNonceSeconds: 1,
    });
  });
  afterAll(async () => {
    await coturn.stop();
  });

  // CreatePermission only installs a permission; no packet is sent to these addresses.
  it.each([
    ['127.0.0.1', undefined],
    ['10.0.0.1', '10.0.0.0-10.255.255.255'],
    ['172.17.0.1', '172.16.0.0-172.31.255.255'],
    ['192.168.1.1', '192.168.0.0-192.168.255.255'],
    ['100.64.0.1', '100.64.0.0-100.127.255.255'],
    ['169.254.169.254', '169.254.0.0-169.254.255.255'],
  ])('should refuse a permission for %s with 403', async (ip, range) => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials(`@deny-${ip}:example.org`),
    });
    await client.allocate();
    const err = await client.createPermission(ip).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TurnError);
    expect(err).toMatchObject({ kind: 'error-response', code: 403, method: 'CreatePermission' });
    await client.close();
    if (range !== undefined) {
      const line = `A peer IP ${ip} denied in the range: ${range}`;
      expect(await logged(coturn, line)).toContain(line);
    }
  });

  it('should report the failing step from checkTurnRelay when the peer is refused', async () => {
    const result = await checkTurnRelay({
      uri: coturn.uri('udp'),
      ...credentials('@ivan:example.org'),
      peer: { family: 'IPv4', address: '127.0.0.1', port: 9 },
    });
    expect(result).toMatchObject({ ok: false, step: 'permission' });
    expect(result.error).toMatchObject({ code: 403 });
  });

  it('should refuse a second allocation over the user quota with 486', async () => {
    const c = credentials('@judy:example.org');
    const first = await TurnClient.connect({ uri: coturn.uri('udp'), ...c });
    await first.allocate();
    const err = await allocationError(coturn.uri('tcp'), c.username, c.password);
    expect(err).toMatchObject({ code: 486, reason: 'Allocation Quota Reached' });
    await first.close();
  });

  it('should follow a 438 Stale Nonce with the new nonce', async () => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials('@mallory:example.org'),
    });
    await client.allocate();
    const before = client.nonce;
    await sleep(2100); // stale-nonce=1 in this instance: the nonce is now stale
    expect(await client.refresh(600)).toBeGreaterThan(0);
    expect(client.nonce).not.toBe(before);
    await client.close();
  });
});

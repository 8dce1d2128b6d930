import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTurnRelay } from '../src/check-turn-relay.ts';
import type { TransportAddress } from '../src/stun-attributes.ts';
import { TurnClient } from '../src/turn-client.ts';
import {
  createTurnCredentials,
  turnPassword,
  verifyTurnCredentials,
} from '../src/turn-credentials.ts';
import { TurnError } from '../src/turn-error.ts';
import { allocationError, credentials, newSecret } from './coturn-helpers.ts';
import { type CoturnInstance, startCoturnInstance, startEchoPeer } from './coturn-instance.ts';

const CURRENT = newSecret();
const PREVIOUS = newSecret();
const RETIRED = newSecret();

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
        ...credentials('@alice:example.org', CURRENT),
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
      const c = credentials('@bob:example.org', CURRENT);
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
      ...credentials('@carol:example.org', CURRENT),
    });
    await client.allocate();
    expect(await client.refresh(0)).toBe(0);
    expect(client.allocation).toBeUndefined();
    // coturn 4.6 frees the allocation on its next timer tick (within about a second); until then
    // it still answers for it. Afterwards a request on this 5-tuple has no allocation to act on.
    let error: unknown;
    const deadline = Date.now() + 10_000;
    while (error === undefined && Date.now() < deadline) {
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
    const c = credentials('@erin:example.org', CURRENT);
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

  it('should agree with verifyTurnCredentials on every username shape coturn parses', async () => {
    const now = Math.floor(Date.now() / 1000);
    const signed = (username: string, key = CURRENT) => ({
      username,
      password: turnPassword(key, username),
    });
    const cases = [
      signed(`${now + 600}:@kim:example.org`),
      signed(`${now + 600}`),
      signed(`kim:${now + 600}`),
      signed(`@kim:example.org:${now + 600}`), // expiry last: coturn reads 0
      signed(`${now - 60}:@kim:example.org`),
      signed(`${now + 600}:@kim:example.org`, PREVIOUS),
      signed(`${now + 600}:@kim:example.org`, RETIRED),
    ];
    const outcomes = [];
    for (const c of cases) {
      const client = await TurnClient.connect({ uri: coturn.uri('udp'), ...c });
      const accepted = await client.allocate().then(
        () => true,
        (e: unknown) => ((e as TurnError).code === 401 ? false : Promise.reject(e as Error)),
      );
      await client.close();
      const verdict = verifyTurnCredentials({
        ...c,
        secrets: [CURRENT, PREVIOUS],
        now: Date.now(),
      });
      outcomes.push({ username: c.username, coturn: accepted, ours: verdict.ok });
    }
    expect(outcomes.map((o) => o.coturn)).toEqual([true, true, true, false, false, true, false]);
    for (const o of outcomes) expect(o.ours).toBe(o.coturn);
  });
});

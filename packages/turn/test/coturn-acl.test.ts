import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTurnRelay } from '../src/check-turn-relay.ts';
import { TurnClient } from '../src/turn-client.ts';
import { TurnError } from '../src/turn-error.ts';
import { allocationError, credentials, logged, newSecret } from './coturn-helpers.ts';
import { type CoturnInstance, startCoturnInstance } from './coturn-instance.ts';

const CURRENT = newSecret();

describe('TurnClient against coturn (test loopback exception, deny list kept)', () => {
  let coturn: CoturnInstance;

  beforeAll(async () => {
    coturn = await startCoturnInstance({ secrets: [CURRENT], allowLoopbackPeers: true });
  });
  afterAll(async () => {
    await coturn.stop();
  });

  it('should still refuse loopback addresses the deny list covers (allowed-peer-ip is 127.0.0.1 alone)', async () => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials('@heidi:example.org', CURRENT),
    });
    await client.allocate();
    await expect(client.createPermission('127.0.0.1')).resolves.toBeUndefined();
    await expect(client.createPermission('127.0.0.2')).rejects.toMatchObject({ code: 403 });
    await client.close();
    const line = 'A peer IP 127.0.0.2 denied in the range: 127.0.0.0-127.255.255.255';
    expect(await logged(coturn, line)).toContain(line);
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
      ...credentials(`@deny-${ip}:example.org`, CURRENT),
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
      ...credentials('@ivan:example.org', CURRENT),
      peer: { family: 'IPv4', address: '127.0.0.1', port: 9 },
    });
    expect(result).toMatchObject({ ok: false, step: 'permission' });
    expect(result.error).toMatchObject({ code: 403 });
  });

  it('should refuse a second allocation over the user quota with 486', async () => {
    const c = credentials('@judy:example.org', CURRENT);
    const first = await TurnClient.connect({ uri: coturn.uri('udp'), ...c });
    await first.allocate();
    const err = await allocationError(coturn.uri('tcp'), c.username, c.password);
    expect(err).toMatchObject({ code: 486, reason: 'Allocation Quota Reached' });
    await first.close();
  });

  it('should follow a 438 Stale Nonce with the new nonce', async () => {
    const client = await TurnClient.connect({
      uri: coturn.uri('udp'),
      ...credentials('@mallory:example.org', CURRENT),
    });
    await client.allocate();
    const before = client.nonce;
    // stale-nonce=1 in this instance: after a second (by coturn's own clock, which ticks once
    // a second and can lag on a loaded machine) the next request meets 438 and the client
    // retries with the new nonce. Each refresh must succeed, stale nonce or not.
    await sleep(1100);
    await expect
      .poll(async () => {
        expect(await client.refresh(600)).toBeGreaterThan(0);
        return client.nonce;
      })
      .not.toBe(before);
    await client.close();
  });
});

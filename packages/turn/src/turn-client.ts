import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { StunAgent } from './stun-agent.ts';
import {
  decodeXorAddress,
  encodeXorAddress,
  StunAttr,
  StunMethod,
  type TransportAddress,
  uint32,
} from './stun-attributes.ts';
import { LongTermSession } from './long-term-session.ts';
import {
  getAttribute,
  newTransactionId,
  type StunAttribute,
  type StunMessage,
} from './stun-message.ts';
import type { StunProtocol } from './stun-transport.ts';
import { TurnError } from './turn-error.ts';
import { parseTurnUri, type TurnUri, turnUriPort } from './turn-uri.ts';

/** Options of {@link TurnClient.connect}. */
export interface TurnClientOptions {
  /** `turn:host:port?transport=udp|tcp` or `turns:` (TLS over TCP); `stun:` for Binding only. */
  readonly uri: string | TurnUri;
  /** Long-term credentials, e.g. from `createTurnCredentials`; needed for Allocate. */
  readonly username?: string;
  readonly password?: string;
  /** Per-request time limit. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** First UDP retransmission timeout, doubled each time. Default 250 ms. */
  readonly rtoMs?: number;
  /** Extra TLS options for `turns:` (a CA for a private certificate, for instance). */
  readonly tls?: ConnectionOptions;
}

/** A relay allocation. */
export interface TurnAllocation {
  /** XOR-RELAYED-ADDRESS: where peers send to reach us. */
  readonly relayed: TransportAddress;
  /** XOR-MAPPED-ADDRESS: our address as the server sees it. */
  readonly mapped: TransportAddress | undefined;
  /** Seconds the allocation lives unless refreshed. */
  readonly lifetime: number;
}

/** Receives data relayed from a peer. */
export type TurnDataListener = (data: Buffer, peer: TransportAddress) => void;

const UDP = 17;

/** A peer given as `TransportAddress` or as a bare IP (port 0, enough for CreatePermission). */
export type PeerAddress = TransportAddress | string;

function peerOf(peer: PeerAddress): TransportAddress {
  if (typeof peer !== 'string') return peer;
  const v = isIP(peer);
  if (v === 0) throw new TurnError(`"${peer}" is not an IP address`, { kind: 'usage' });
  return { family: v === 6 ? 'IPv6' : 'IPv4', address: peer, port: 0 };
}

/**
 * A small RFC 5389/5766 TURN client: one connection, one allocation. It answers the 401
 * challenge with long-term credentials (REALM, NONCE, MESSAGE-INTEGRITY, FINGERPRINT), follows a
 * 438 Stale Nonce once, and throws {@link TurnError} with the STUN code for every refusal.
 */
export class TurnClient {
  readonly #agent: StunAgent;
  readonly #session: LongTermSession;
  readonly #listeners = new Set<TurnDataListener>();
  #allocation: TurnAllocation | undefined;

  private constructor(agent: StunAgent, options: TurnClientOptions) {
    this.#agent = agent;
    this.#session = new LongTermSession(options.username, options.password);
    agent.onIndication = (m) => {
      this.#indication(m);
    };
  }

  /** Resolves the URI's host and opens the connection (no request is sent yet). */
  public static async connect(options: TurnClientOptions): Promise<TurnClient> {
    let uri: TurnUri;
    try {
      uri = typeof options.uri === 'string' ? parseTurnUri(options.uri) : options.uri;
    } catch (err) {
      throw new TurnError((err as Error).message, { kind: 'usage', cause: err });
    }
    const secure = uri.scheme === 'turns' || uri.scheme === 'stuns';
    if (secure && uri.transport === 'udp') {
      throw new TurnError('DTLS (turns: with transport=udp) is not supported', { kind: 'usage' });
    }
    const protocol: StunProtocol = secure ? 'tls' : (uri.transport ?? 'udp');
    const timeoutMs = options.timeoutMs ?? 5000;
    const agent = await StunAgent.open(
      {
        protocol,
        host: uri.host,
        port: turnUriPort(uri),
        timeoutMs,
        ...(options.tls ? { tls: options.tls } : {}),
      },
      { timeoutMs, rtoMs: options.rtoMs ?? 250, maxTransmissions: 7 },
    );
    return new TurnClient(agent, options);
  }

  /** `udp`, `tcp` or `tls`. */
  public get protocol(): StunProtocol {
    return this.#agent.transport.protocol;
  }

  /** The server's resolved address. */
  public get server(): TransportAddress {
    return this.#agent.transport.server;
  }

  /** The realm learnt from the server's challenge. */
  public get realm(): string | undefined {
    return this.#session.realm;
  }

  /** The nonce in use (diagnostics: it changes after a 438 Stale Nonce). */
  public get nonce(): string | undefined {
    return this.#session.nonce;
  }

  /** The SOFTWARE attribute of the last response, when the server sends one. */
  public get software(): string | undefined {
    return this.#session.software;
  }

  /** The current allocation, if any. */
  public get allocation(): TurnAllocation | undefined {
    return this.#allocation;
  }

  #indication(message: StunMessage): void {
    if (message.method !== StunMethod.Data) return;
    const peer = getAttribute(message, StunAttr.XorPeerAddress);
    const data = getAttribute(message, StunAttr.Data);
    if (peer === undefined || data === undefined) return;
    let from: TransportAddress;
    try {
      from = decodeXorAddress(peer, message.transactionId);
    } catch {
      return; // a malformed indication from the network must not crash the process
    }
    for (const listener of this.#listeners) listener(data, from);
  }

  #request(
    method: number,
    name: string,
    build: (transactionId: Buffer) => StunAttribute[],
    auth: boolean,
  ): Promise<StunMessage> {
    return this.#session.request(this.#agent, method, name, build, auth);
  }

  /** STUN Binding: our address as the server sees it. */
  public async binding(): Promise<TransportAddress> {
    const res = await this.#request(StunMethod.Binding, 'Binding', () => [], false);
    const mapped = getAttribute(res, StunAttr.XorMappedAddress);
    if (mapped === undefined)
      throw new TurnError('Binding: no XOR-MAPPED-ADDRESS', {
        kind: 'protocol',
        method: 'Binding',
      });
    return decodeXorAddress(mapped, res.transactionId);
  }

  /** Allocate a UDP relay. @throws {@link TurnError} (401 bad or expired credentials, 486 quota…). */
  public async allocate(options: { lifetime?: number } = {}): Promise<TurnAllocation> {
    const attrs: StunAttribute[] = [
      { type: StunAttr.RequestedTransport, value: uint32(UDP << 24) },
    ];
    if (options.lifetime !== undefined)
      attrs.push({ type: StunAttr.Lifetime, value: uint32(options.lifetime) });
    const res = await this.#request(StunMethod.Allocate, 'Allocate', () => attrs, true);
    const relayed = getAttribute(res, StunAttr.XorRelayedAddress);
    if (relayed === undefined) {
      throw new TurnError('Allocate: success without XOR-RELAYED-ADDRESS', {
        kind: 'protocol',
        method: 'Allocate',
      });
    }
    const mapped = getAttribute(res, StunAttr.XorMappedAddress);
    this.#allocation = {
      relayed: decodeXorAddress(relayed, res.transactionId),
      mapped: mapped === undefined ? undefined : decodeXorAddress(mapped, res.transactionId),
      lifetime: getAttribute(res, StunAttr.Lifetime)?.readUInt32BE(0) ?? 600,
    };
    return this.#allocation;
  }

  /** Refresh the allocation; lifetime 0 deletes it. Resolves with the granted lifetime. */
  public async refresh(lifetime: number): Promise<number> {
    const res = await this.#request(
      StunMethod.Refresh,
      'Refresh',
      () => [{ type: StunAttr.Lifetime, value: uint32(lifetime) }],
      true,
    );
    if (lifetime === 0) this.#allocation = undefined;
    return getAttribute(res, StunAttr.Lifetime)?.readUInt32BE(0) ?? lifetime;
  }

  /** Installs permissions for the peers' IPs (ports are ignored). 403 when the server's ACL refuses one. */
  public async createPermission(...peers: PeerAddress[]): Promise<void> {
    if (peers.length === 0) throw new TurnError('createPermission needs a peer', { kind: 'usage' });
    const addresses = peers.map(peerOf);
    await this.#request(
      StunMethod.CreatePermission,
      'CreatePermission',
      (tid) =>
        addresses.map((a) => ({ type: StunAttr.XorPeerAddress, value: encodeXorAddress(a, tid) })),
      true,
    );
  }

  /** Sends `data` to `peer` through the relay (a Send indication; no delivery report). */
  public async send(peer: TransportAddress, data: Uint8Array): Promise<void> {
    const tid = newTransactionId();
    this.#agent.indicate(StunMethod.Send, tid, [
      { type: StunAttr.XorPeerAddress, value: encodeXorAddress(peer, tid) },
      { type: StunAttr.Data, value: Buffer.from(data) },
    ]);
  }

  /** Listens for data relayed from peers; returns the function that stops listening. */
  public onData(listener: TurnDataListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Deletes the allocation (Refresh with lifetime 0) if there is one, then closes the socket. */
  public async close(): Promise<void> {
    try {
      if (this.#allocation !== undefined) await this.refresh(0);
    } finally {
      this.#listeners.clear();
      await this.#agent.close();
    }
  }
}

import type { TransportAddress } from './stun-attributes.ts';
import {
  checkFingerprint,
  checkMessageIntegrity,
  decodeStunMessage,
  encodeStunMessage,
  looksLikeStun,
  type StunAttribute,
  type StunMessage,
} from './stun-message.ts';
import {
  openStunTransport,
  type OpenTransportOptions,
  type StunTransport,
} from './stun-transport.ts';
import { TurnError } from './turn-error.ts';

/** Timing of {@link StunAgent} transactions. */
export interface StunTiming {
  /** Give up on a transaction after this long. */
  readonly timeoutMs: number;
  /** First UDP retransmission timeout; it doubles after every retransmission (RFC 5389 §7.2.1). */
  readonly rtoMs: number;
  /** At most this many UDP transmissions of one request (RFC 5389's Rc, default 7). */
  readonly maxTransmissions: number;
}

interface Pending {
  readonly key: Buffer | undefined;
  readonly resolve: (message: StunMessage) => void;
  readonly reject: (error: TurnError) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The STUN transaction layer over one transport: sends requests, retransmits them on UDP,
 * matches responses by transaction ID, drops responses whose FINGERPRINT or MESSAGE-INTEGRITY
 * does not check, and hands indications to `onIndication`.
 */
export class StunAgent {
  public readonly transport: StunTransport;
  /** Number of datagrams or frames sent, retransmissions included (for diagnostics). */
  public sent = 0;
  readonly #timing: StunTiming;
  readonly #pending = new Map<string, Pending>();
  #closedWith: TurnError | undefined;
  #onIndication: (message: StunMessage) => void = () => undefined;

  private constructor(transport: StunTransport, timing: StunTiming) {
    this.transport = transport;
    this.#timing = timing;
  }

  /** Opens the transport and starts listening. */
  public static async open(
    options: Omit<OpenTransportOptions, 'onFrame' | 'onClose'>,
    timing: StunTiming,
  ): Promise<StunAgent> {
    // Frames may only arrive after `open` resolves, but the callbacks must exist before it.
    const sink = {
      frame: (_frame: Buffer): void => undefined,
      close: (_error: TurnError): void => undefined,
    };
    const transport = await openStunTransport({
      ...options,
      onFrame: (frame) => {
        sink.frame(frame);
      },
      onClose: (error) => {
        sink.close(error);
      },
    });
    const agent = new StunAgent(transport, timing);
    sink.frame = (frame) => {
      agent.#receive(frame);
    };
    sink.close = (error) => {
      agent.#fail(error);
    };
    return agent;
  }

  /** Receives every indication (Data indications from the relay). */
  public set onIndication(listener: (message: StunMessage) => void) {
    this.#onIndication = listener;
  }

  /** The server address this agent talks to. */
  public get server(): TransportAddress {
    return this.transport.server;
  }

  #receive(frame: Buffer): void {
    if (!looksLikeStun(frame)) return; // ChannelData: no channels are bound by this client
    let message: StunMessage;
    try {
      message = decodeStunMessage(frame);
    } catch {
      return;
    }
    if (checkFingerprint(frame) === false) return;
    if (message.cls === 'indication') {
      this.#onIndication(message);
      return;
    }
    if (message.cls === 'request') return;
    const id = message.transactionId.toString('hex');
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // a late duplicate of an answered retransmission
    // RFC 5389 §10.2.3: a response that fails integrity is discarded, not trusted.
    if (pending.key !== undefined && checkMessageIntegrity(frame, pending.key) === false) return;
    this.#settle(id);
    pending.resolve(message);
  }

  #settle(id: string): void {
    const pending = this.#pending.get(id);
    if (pending?.timer !== undefined) clearTimeout(pending.timer);
    this.#pending.delete(id);
  }

  #fail(error: TurnError): void {
    // UDP errors (ICMP unreachable) are not fatal for the socket; stream errors are.
    if (this.transport.protocol !== 'udp') this.#closedWith = error;
    for (const [id, pending] of this.#pending) {
      this.#settle(id);
      pending.reject(error);
    }
  }

  /**
   * Sends a request and resolves with its success or error response. Rejects with a
   * `timeout` {@link TurnError} when nothing valid comes back in time.
   */
  public async request(
    method: number,
    methodName: string,
    transactionId: Buffer,
    attributes: readonly StunAttribute[],
    key?: Buffer,
  ): Promise<StunMessage> {
    if (this.#closedWith !== undefined) throw this.#closedWith;
    const frame = encodeStunMessage(
      { method, cls: 'request', transactionId, attributes },
      key === undefined ? {} : { integrityKey: key },
    );
    const id = transactionId.toString('hex');
    const { timeoutMs, rtoMs, maxTransmissions } = this.#timing;
    return new Promise<StunMessage>((resolve, reject) => {
      const pending: Pending = { key, resolve, reject, timer: undefined };
      this.#pending.set(id, pending);
      let elapsed = 0;
      let rto = rtoMs;
      let transmissions = 0;
      const transmit = (): void => {
        this.transport.send(frame);
        this.sent++;
        transmissions++;
        const reliable = this.transport.protocol !== 'udp';
        const last = reliable || transmissions >= maxTransmissions;
        const wait = last ? timeoutMs - elapsed : Math.min(rto, timeoutMs - elapsed);
        pending.timer = setTimeout(() => {
          elapsed += wait;
          if (elapsed >= timeoutMs || last) {
            this.#settle(id);
            reject(
              new TurnError(
                `${methodName}: no answer from ${this.server.address}:${this.server.port} ` +
                  `over ${this.transport.protocol} within ${timeoutMs} ms (${transmissions} sent)`,
                { kind: 'timeout', method: methodName },
              ),
            );
            return;
          }
          rto *= 2;
          transmit();
        }, wait);
      };
      transmit();
    });
  }

  /** Sends an indication (no response expected). */
  public indicate(
    method: number,
    transactionId: Buffer,
    attributes: readonly StunAttribute[],
  ): void {
    if (this.#closedWith !== undefined) throw this.#closedWith;
    this.transport.send(
      encodeStunMessage({ method, cls: 'indication', transactionId, attributes }),
    );
    this.sent++;
  }

  /** Rejects whatever is pending and closes the transport. */
  public async close(): Promise<void> {
    this.#fail(new TurnError('the TURN client was closed', { kind: 'closed' }));
    this.#closedWith = new TurnError('the TURN client is closed', { kind: 'closed' });
    await this.transport.close();
  }
}

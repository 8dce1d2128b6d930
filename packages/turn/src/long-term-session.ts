import type { StunAgent } from './stun-agent.ts';
import { decodeErrorCode, StunAttr } from './stun-attributes.ts';
import {
  getAttribute,
  longTermKey,
  newTransactionId,
  type StunAttribute,
  type StunMessage,
} from './stun-message.ts';
import { TurnError } from './turn-error.ts';

/**
 * The long-term credential state of one TURN session (RFC 5389 §10.2): the username and
 * password, and the realm and nonce the server handed out. It signs requests once it has a
 * nonce, answers the first 401 challenge, and follows one 438 Stale Nonce per request.
 */
export class LongTermSession {
  readonly #username: string | undefined;
  readonly #password: string | undefined;
  /** Realm from the server's challenge. */
  public realm: string | undefined;
  /** Current nonce; replaced after a 438. */
  public nonce: string | undefined;
  /** SOFTWARE of the last response. */
  public software: string | undefined;

  public constructor(username: string | undefined, password: string | undefined) {
    this.#username = username;
    this.#password = password;
  }

  /**
   * One request, answering the challenge when `auth`. `build` makes the attributes for a given
   * transaction ID, because XOR-PEER-ADDRESS of an IPv6 peer is masked with it.
   */
  public async request(
    agent: StunAgent,
    method: number,
    name: string,
    build: (transactionId: Buffer) => StunAttribute[],
    auth: boolean,
  ): Promise<StunMessage> {
    let staleRetried = false;
    for (;;) {
      const transactionId = newTransactionId();
      const attributes = build(transactionId);
      const key =
        auth && this.realm !== undefined && this.nonce !== undefined
          ? longTermKey(this.#username ?? '', this.realm, this.#password ?? '')
          : undefined;
      const attrs =
        key === undefined
          ? attributes
          : [
              ...attributes,
              { type: StunAttr.Username, value: Buffer.from(this.#username ?? '') },
              { type: StunAttr.Realm, value: Buffer.from(this.realm ?? '') },
              { type: StunAttr.Nonce, value: Buffer.from(this.nonce ?? '') },
            ];
      const res = await agent.request(method, name, transactionId, attrs, key);
      const software = getAttribute(res, StunAttr.Software);
      if (software !== undefined) this.software = software.toString('utf8');
      if (res.cls === 'success') return res;
      const raw = getAttribute(res, StunAttr.ErrorCode);
      if (raw === undefined)
        throw new TurnError(`${name}: error response without ERROR-CODE`, {
          kind: 'protocol',
          method: name,
        });
      const { code, reason } = decodeErrorCode(raw);
      const nonce = getAttribute(res, StunAttr.Nonce)?.toString('utf8');
      const realm = getAttribute(res, StunAttr.Realm)?.toString('utf8');
      // The first 401 is the challenge (RFC 5389 §10.2.2); a 438 hands us a fresh nonce (§10.2.3).
      const challenge = code === 401 && key === undefined && auth;
      const stale: boolean = code === 438 && !staleRetried;
      if ((challenge || stale) && nonce !== undefined) {
        if (this.#username === undefined || this.#password === undefined) {
          throw new TurnError(`${name}: the server wants credentials and none were given`, {
            kind: 'usage',
            method: name,
            code,
          });
        }
        this.nonce = nonce;
        if (realm !== undefined) this.realm = realm;
        staleRetried ||= stale;
        continue;
      }
      throw TurnError.fromResponse(name, code, reason);
    }
  }
}

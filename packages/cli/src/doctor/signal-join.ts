import { SignalResponse } from '@livekit/protocol';

import type { IceServer, SignalJoin } from './doctor-context.ts';

/** The `/rtc` signalling URL for a LiveKit URL (which may carry a path prefix) and a token. */
export function signalUrl(livekitUrl: string, jwt: string): string {
  const url = new URL(livekitUrl);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/rtc`;
  // auto_subscribe off: doctor only proves the join and leaves, it never wants media.
  url.search = new URLSearchParams({
    access_token: jwt,
    auto_subscribe: '0',
    protocol: '15',
  }).toString();
  return url.toString();
}

/**
 * The first signalling message, decoded with LiveKit's own protobuf definitions: a join
 * response with the ICE servers it hands this participant, or why it is not one.
 */
export function readJoinResponse(bytes: Uint8Array): SignalJoin {
  let message: SignalResponse;
  try {
    message = SignalResponse.fromBinary(bytes);
  } catch (error) {
    return { ok: false, detail: `first signalling message does not decode: ${String(error)}` };
  }
  if (message.message.case !== 'join') {
    return {
      ok: false,
      detail: `first signalling message is ${message.message.case ?? 'empty'}, not a join response`,
    };
  }
  const join = message.message.value;
  const iceServers: IceServer[] = join.iceServers.map((s) => ({
    urls: [...s.urls],
    username: s.username,
    credential: s.credential,
  }));
  return {
    ok: true,
    detail: `join response (${bytes.length} bytes)`,
    participantSid: join.participant?.sid ?? '',
    iceServers,
  };
}

/**
 * Joins a LiveKit room over the signalling WebSocket with `jwt` and leaves again: success is the
 * server's first message being a join response, which LiveKit only sends for a token signed
 * with one of its keys, for a room the token may join. The join response carries the ICE
 * servers LiveKit hands this participant (its `rtc.turn_servers`, with credentials it signed),
 * exactly what Element Call configures its peer connections with. Uses Node's global WebSocket.
 */
export function webSocketJoin(url: string, timeoutMs: number): Promise<SignalJoin> {
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const finish = (result: SignalJoin): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, detail: `no join response within ${timeoutMs} ms` });
    }, timeoutMs);
    ws.addEventListener('message', (event: MessageEvent) => {
      const data: unknown = event.data;
      if (!(data instanceof ArrayBuffer)) {
        finish({ ok: false, detail: 'first signalling message was text, not protobuf' });
        return;
      }
      finish(readJoinResponse(new Uint8Array(data)));
    });
    ws.addEventListener('error', () => {
      finish({ ok: false, detail: 'WebSocket handshake failed' });
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      finish({ ok: false, detail: `WebSocket closed (${event.code}) before a join response` });
    });
  });
}

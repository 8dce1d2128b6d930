import type { SignalJoin } from './doctor-context.ts';

/** Protobuf tag of `SignalResponse.join` (field 1, length-delimited). */
const JOIN_TAG = 0x0a;

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

/** The field number of the first protobuf field in `bytes`, for an unexpected first message. */
function firstField(bytes: Uint8Array): number | undefined {
  const tag = bytes[0];
  return tag === undefined ? undefined : tag >> 3;
}

/**
 * Joins a LiveKit room over the signalling WebSocket with `jwt` and leaves again: success is the
 * server's first message being a join response, which LiveKit only sends for a token signed
 * with one of its keys, for a room the token may join. Uses Node's global WebSocket.
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
      const bytes = new Uint8Array(data);
      if (bytes[0] === JOIN_TAG) {
        finish({ ok: true, detail: `join response (${bytes.length} bytes)` });
      } else {
        finish({
          ok: false,
          detail: `first signalling message is field ${String(firstField(bytes))}, not a join response`,
        });
      }
    });
    ws.addEventListener('error', () => {
      finish({ ok: false, detail: 'WebSocket handshake failed' });
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      finish({ ok: false, detail: `WebSocket closed (${event.code}) before a join response` });
    });
  });
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';

/** Collects everything written to it, for scanning log output. */
export class LogCapture extends Writable {
  public text = '';

  public override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** How the fake homeserver treats a token. */
export type TokenBehaviour =
  | { readonly kind: 'user'; readonly sub: string }
  | { readonly kind: 'echo' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'soft' };

/** A loopback server answering OpenID userinfo, whoami and LiveKit CreateRoom. */
export interface SecretPeers {
  readonly url: string;
  /** Answer CreateRoom with 500 when set. */
  sfuFails: boolean;
  close(): Promise<void>;
}

/**
 * Starts a homeserver and SFU stand-in on one loopback port. Tokens not in `tokens` are
 * unknown (401). An `echo` token gets a 500 whose body repeats the token and the
 * Authorization header, as a careless proxy's error page might, to see whether the services
 * copy upstream bodies into their logs.
 */
export async function startSecretPeers(
  tokens: ReadonlyMap<string, TokenBehaviour>,
): Promise<SecretPeers> {
  const sockets = new Set<Socket>();
  const peers = { url: '', sfuFails: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname.endsWith('/twirp/livekit.RoomService/CreateRoom')) {
      req.resume();
      req.on('end', () => {
        if (peers.sfuFails) {
          json(500, {
            code: 'internal',
            msg: `create failed; request carried ${req.headers.authorization ?? ''}`,
          });
        } else {
          res.writeHead(200, { 'content-type': 'application/protobuf' }).end();
        }
      });
      return;
    }
    let token: string | null;
    if (url.pathname === '/_matrix/federation/v1/openid/userinfo') {
      token = url.searchParams.get('access_token');
    } else if (url.pathname === '/_matrix/client/v3/account/whoami') {
      token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    } else {
      json(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      return;
    }
    const behaviour = token === null ? undefined : tokens.get(token);
    if (behaviour === undefined) {
      json(401, { errcode: 'M_UNKNOWN_TOKEN', error: `Unknown token ${token ?? ''}` });
    } else if (behaviour.kind === 'user') {
      json(200, { sub: behaviour.sub, user_id: behaviour.sub });
    } else if (behaviour.kind === 'soft') {
      json(401, { errcode: 'M_UNKNOWN_TOKEN', error: `expired ${token ?? ''}`, soft_logout: true });
    } else if (behaviour.kind === 'echo') {
      json(500, {
        errcode: 'M_UNKNOWN',
        error: `broken for ${token ?? ''} (${req.headers.authorization ?? ''})`,
      });
    }
    // 'hang': never answer.
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peers.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peers.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return peers;
}

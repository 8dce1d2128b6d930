// A tiny loopback homeserver for fault tests: it answers userinfo (and optionally the
// well-known document) the way a test tells it to, and records every TCP connection and request.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeHomeserver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` or `https://…`. */
  readonly url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests seen: path (token redacted) and Host header. */
  readonly requests: { path: string; host: string | undefined; token: string | null }[];
  close(): Promise<void>;
}

/** Answers userinfo for token `good` with `sub`, 401 `M_UNKNOWN_TOKEN` otherwise. */
export function userinfoHandler(sub: string): Handler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/_matrix/federation/v1/openid/userinfo') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"errcode":"M_UNRECOGNIZED"}');
      return;
    }
    if (url.searchParams.get('access_token') !== 'good') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errcode":"M_UNKNOWN_TOKEN","error":"Access token unknown or expired"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub }));
  };
}

/** Starts a fake homeserver on 127.0.0.1 and a kernel-chosen port. */
export async function startFakeHomeserver(
  handler: Handler,
  tls?: { cert: string; key: string },
): Promise<FakeHomeserver> {
  const server = tls === undefined ? createHttpServer() : createHttpsServer(tls);
  const sockets = new Set<Socket>();
  const state = {
    connections: 0,
    requests: [] as FakeHomeserver['requests'],
  };
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push({
      path: url.pathname,
      host: req.headers.host,
      token: url.searchParams.get('access_token'),
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    requests: state.requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/** Serves `{"m.server": server}` at the well-known path and 404 elsewhere. */
export function serveWellKnown(server: string, next?: Handler): Handler {
  return (req, res) => {
    if (req.url === '/.well-known/matrix/server') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ 'm.server': server }));
    } else if (next !== undefined) {
      next(req, res);
    } else {
      res.writeHead(404).end();
    }
  };
}

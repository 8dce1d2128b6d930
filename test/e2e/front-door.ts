import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where the front door sends each path, as the deployment's reverse proxy does. */
export interface FrontDoorRoutes {
  /** The well-known service: `/.well-known/matrix/*` and the MSC4143 transports paths. */
  readonly wellKnown: string;
  /** livekit-jwt, mounted under `/livekit/jwt` with the prefix stripped. */
  readonly livekitJwt: string;
  /** The homeserver's client listener: everything else. */
  readonly homeserver: string;
}

/** The prefix livekit-jwt is published under, as in the docker bundle. */
export const JWT_PREFIX = '/livekit/jwt';

const TRANSPORTS = /^\/_matrix\/client\/(v1|unstable\/org\.matrix\.msc4143)\/rtc\/transports(\?|$)/;

/** Picks the upstream base URL and path for one request path. */
export function route(routes: FrontDoorRoutes, path: string): { base: string; path: string } {
  if (path.startsWith('/.well-known/matrix/') || TRANSPORTS.test(path)) {
    return { base: routes.wellKnown, path };
  }
  if (path === JWT_PREFIX || path.startsWith(`${JWT_PREFIX}/`)) {
    return { base: routes.livekitJwt, path: path.slice(JWT_PREFIX.length) || '/' };
  }
  return { base: routes.homeserver, path };
}

/** A running front door. */
export interface FrontDoor {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * A minimal reverse proxy standing in for the deployment's Traefik/Caddy: one origin for the
 * homeserver, the well-known documents, the transports endpoint and livekit-jwt, so the client
 * finds everything from one domain exactly as Element Call does. It only routes; it adds nothing.
 */
export async function startFrontDoor(routes: FrontDoorRoutes): Promise<FrontDoor> {
  const server = createServer((req, res) => {
    const target = route(routes, req.url ?? '/');
    const url = new URL(target.path, target.base);
    const upstream = request(
      url,
      { method: req.method, headers: { ...req.headers, host: url.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`front door: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/**
 * A `fetch` that plays DNS and TLS termination for one public domain: `https://<domain>/…` goes
 * to the front door over plain HTTP on loopback, everything else is untouched. matrix-js-sdk's
 * `AutoDiscovery` always asks `https://<domain>`, so this is what lets the real discovery code
 * run against loopback servers.
 */
export function domainFetch(domain: string, frontDoorUrl: string): typeof fetch {
  return (input, init) => {
    const raw = input instanceof Request ? input.url : input.toString();
    const url = new URL(raw);
    if (url.protocol === 'https:' && url.host === domain) {
      const mapped = new URL(`${url.pathname}${url.search}`, frontDoorUrl);
      return input instanceof Request
        ? fetch(new Request(mapped, input), init)
        : fetch(mapped, init);
    }
    return fetch(input, init);
  };
}

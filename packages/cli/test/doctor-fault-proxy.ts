import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a {@link startFaultProxy} breaks the deployment behind it; each fault is optional. */
export interface Faults {
  /** Send this path to another upstream base URL (and path) instead of the front door. */
  readonly reroute?: (path: string) => { base: string; path: string } | undefined;
  /** Drop every `Access-Control-*` header from the answers, as a misconfigured proxy does. */
  readonly stripCors?: boolean;
  /** Rewrite the JSON body of answers to paths matching `path`. */
  readonly rewriteJson?: { readonly path: RegExp; readonly edit: (body: unknown) => unknown };
}

/** A running fault proxy. */
export interface FaultProxy {
  readonly url: string;
  close(): Promise<void>;
}

function withoutCors(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('access-control-')),
  );
}

/**
 * A reverse proxy in front of the e2e stack's front door that breaks the deployment one way,
 * the way operators break theirs: a router that strips headers, a path routed to the wrong
 * container, a service pointed at another backend. Everything else passes through untouched.
 */
export async function startFaultProxy(upstream: string, faults: Faults): Promise<FaultProxy> {
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const target = faults.reroute?.(path) ?? { base: upstream, path };
    const url = new URL(target.path, target.base);
    const rewrite = faults.rewriteJson?.path.test(path) === true ? faults.rewriteJson : undefined;
    const headers = { ...req.headers, host: url.host };
    if (rewrite) delete headers['accept-encoding'];
    const proxied = request(url, { method: req.method, headers }, (up) => {
      const answerHeaders = faults.stripCors === true ? withoutCors(up.headers) : { ...up.headers };
      if (rewrite === undefined) {
        res.writeHead(up.statusCode ?? 502, answerHeaders);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = JSON.stringify(rewrite.edit(JSON.parse(Buffer.concat(chunks).toString())));
        delete answerHeaders['content-length'];
        delete answerHeaders['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, answerHeaders);
        res.end(body);
      });
    });
    proxied.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: ${err.message}`);
    });
    req.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Server, type Socket } from 'node:net';

/** Where to listen: what `@rtc-sidecars/config`'s `bind()` parser yields. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** How long in-flight requests get to finish after SIGTERM before the process gives up. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** How long open connections are still served (with `Connection: close`) after SIGTERM. */
export const SHUTDOWN_DRAIN_MS = 250;

/**
 * Listens on `bind` and wires graceful shutdown for a service's `server.ts`: on SIGTERM or
 * SIGINT it stops accepting connections, answers what arrives on open ones with
 * `Connection: close` for {@link SHUTDOWN_DRAIN_MS}, then lets in-flight requests finish
 * (`app.close()`), and the process exits 0. It exits 1 if closing fails or takes longer than
 * {@link SHUTDOWN_GRACE_MS}, and at once on a second signal.
 *
 * @returns the address actually listened on, e.g. `http://127.0.0.1:8080`.
 */
export async function serve(
  app: FastifyInstance,
  bind: ListenAddress,
  log: FastifyBaseLogger = app.log,
): Promise<string> {
  const address = await app.listen({ host: bind.host, port: bind.port });
  let closing = false;
  // Once closing, every answer not yet started carries `Connection: close`, so keep-alive clients
  // finish their current request and reconnect elsewhere instead of reusing a socket that is
  // about to go: requests arriving later are marked here, those already in flight at the signal
  // through their socket (tracked per connection, not per request, to keep the hot path clear).
  app.server.prependListener('request', (_request, response) => {
    if (closing) response.shouldKeepAlive = false;
  });
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal during shutdown, exiting now');
      process.exit(1);
    }
    closing = true;
    for (const socket of sockets) {
      const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (response && !response.headersSent) response.shouldKeepAlive = false;
    }
    log.info({ signal }, 'shutting down after in-flight requests');
    const timer = setTimeout(() => {
      log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'in-flight requests did not finish in time');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    // Stop accepting connections now, but drain before dropping the idle ones: net.Server's
    // close, unlike http.Server's (which app.close() calls), leaves open connections alone. For
    // a moment a client whose next request is already on a kept-alive socket is answered, with
    // `Connection: close`, instead of reset. Then app.close() drops the idle connections; a
    // keep-alive connection whose request finishes later would hold the process open until the
    // client hangs up, so idle connections are swept until the close completes.
    Server.prototype.close.call(app.server);
    setTimeout(() => {
      const sweep = setInterval(() => {
        app.server.closeIdleConnections();
      }, 100);
      sweep.unref();
      app.close().then(
        () => {
          clearInterval(sweep);
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    }, SHUTDOWN_DRAIN_MS);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return address;
}

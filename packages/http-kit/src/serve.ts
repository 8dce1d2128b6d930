import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** Where to listen: what `@rtc-sidecars/config`'s `bind()` parser yields. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** How long in-flight requests get to finish after SIGTERM before the process gives up. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Listens on `bind` and wires graceful shutdown for a service's `server.ts`: on SIGTERM or
 * SIGINT the app stops accepting connections, lets in-flight requests finish (`app.close()`),
 * then the process exits 0. It exits 1 if closing fails or takes longer than
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
  // Once closing, every answer carries `Connection: close`, so keep-alive clients finish their
  // current request and reconnect elsewhere instead of reusing a socket that is about to go.
  app.server.prependListener('request', (_request, response) => {
    if (closing) response.shouldKeepAlive = false;
  });
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal during shutdown, exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down after in-flight requests');
    const timer = setTimeout(() => {
      log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'in-flight requests did not finish in time');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    // Node's server.close() drops the connections idle at that moment only; a keep-alive
    // connection whose request finishes later would hold the process open until the client
    // hangs up. Sweeping idle connections until the close completes lets it end promptly.
    // The first sweep waits a moment so that requests already on the wire are read and
    // answered (with `Connection: close`) rather than cut off with a reset.
    const sweep = setInterval(() => {
      app.server.closeIdleConnections();
    }, 250);
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
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return address;
}

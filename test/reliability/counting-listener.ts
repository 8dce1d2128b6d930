import { createServer, type Server, type Socket } from 'node:net';

/** Plain TCP listeners on one port of 127.0.0.1 and ::1 that count connections and say nothing. */
export interface CountingListener {
  readonly port: number;
  /** TCP connections accepted on either address so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts the "internal service" an SSRF would reach: one kernel-chosen port, bound on IPv4 and
 * IPv6 loopback, counting every accepted connection and destroying it at once.
 */
export async function startCountingListener(
  hosts: readonly string[] = ['127.0.0.1', '::1'],
): Promise<CountingListener> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  let port = 0;
  for (const host of hosts) {
    const server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        resolve();
      });
    });
    const address = server.address();
    if (address !== null && typeof address === 'object') port = address.port;
    servers.push(server);
  }
  return {
    port,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/** Asks the kernel for a free TCP port on 127.0.0.1 (released before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      srv.close(() => {
        resolve(addr.port);
      });
    });
  });
}

/** A port free for both TCP and UDP on 127.0.0.1 (TURN and LiveKit listen on both). */
export async function freeDualPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => {
        sock.close();
        resolve(false);
      });
      sock.bind(port, '127.0.0.1', () => {
        sock.close(() => {
          resolve(true);
        });
      });
    });
    if (ok) return port;
  }
  throw new Error('no port free for both TCP and UDP');
}

/** A run of `count` consecutive ports free for UDP (relay ranges), starting at a random offset. */
export async function freeUdpRange(count: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 40000 + Math.floor(Math.random() * 20000);
    const socks = [];
    let ok = true;
    for (let p = min; p < min + count && ok; p++) {
      const sock = createSocket('udp4');
      ok = await new Promise<boolean>((resolve) => {
        sock.once('error', () => {
          resolve(false);
        });
        sock.bind(p, '127.0.0.1', () => {
          resolve(true);
        });
      });
      socks.push(sock);
    }
    await Promise.all(
      socks.map(
        (s) =>
          new Promise((r) => {
            try {
              s.close(() => {
                r(undefined);
              });
            } catch {
              r(undefined);
            }
          }),
      ),
    );
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error(`no free UDP range of ${count} ports`);
}

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { TransportAddress } from './stun-attributes.ts';
import { TurnError } from './turn-error.ts';

/** How the client reaches the server: `tls` is TCP with TLS (a `turns:` URI). */
export type StunProtocol = 'udp' | 'tcp' | 'tls';

/** A connection to one STUN server: one 5-tuple, so one TURN allocation. */
export interface StunTransport {
  readonly protocol: StunProtocol;
  /** The server's resolved address. */
  readonly server: TransportAddress;
  /** Our local address. */
  readonly local: TransportAddress;
  /** Sends one framed message. */
  send(frame: Buffer): void;
  close(): Promise<void>;
}

/** Options of {@link openStunTransport}. */
export interface OpenTransportOptions {
  readonly protocol: StunProtocol;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Extra TLS options (CA, servername) for `tls`. */
  readonly tls?: ConnectionOptions;
  /** Each complete STUN message or ChannelData frame. */
  readonly onFrame: (frame: Buffer) => void;
  /** The connection failed or was closed by the peer. */
  readonly onClose: (error: TurnError) => void;
}

function toAddress(address: string, port: number, family: string | number): TransportAddress {
  return { family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4', address, port };
}

/**
 * Splits a TCP byte stream into frames (RFC 5766 §11.5): a STUN message is 20 bytes plus its
 * length field; ChannelData (first two bits 01) is 4 bytes plus its length, padded to 4.
 * Returns the frames and the unconsumed rest, or throws on bytes that are neither.
 */
export function splitStreamFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let o = 0;
  while (buffer.length - o >= 4) {
    const top = (buffer[o] ?? 0) >> 6;
    const len = buffer.readUInt16BE(o + 2);
    let size: number;
    if (top === 0) size = 20 + len;
    else if (top === 1) size = 4 + len + ((4 - (len % 4)) % 4);
    else throw new TurnError('the server sent bytes that are not STUN', { kind: 'protocol' });
    if (buffer.length - o < size) break;
    frames.push(Buffer.from(buffer.subarray(o, o + size)));
    o += size;
  }
  return { frames, rest: Buffer.from(buffer.subarray(o)) };
}

async function openUdp(
  options: OpenTransportOptions,
  server: TransportAddress,
): Promise<StunTransport> {
  const socket: UdpSocket = createSocket(server.family === 'IPv6' ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(server.port, server.address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', (msg) => {
    options.onFrame(msg);
  });
  // ICMP port unreachable surfaces as ECONNREFUSED on a connected socket: report it now rather
  // than let the request run into its timeout.
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const message =
      err.code === 'ECONNREFUSED'
        ? `nothing listens on ${server.address}:${server.port}/udp (ECONNREFUSED)`
        : `UDP socket error: ${err.message}`;
    options.onClose(new TurnError(message, { kind: 'network', cause: err }));
  });
  const local = socket.address();
  let closed = false;
  return {
    protocol: 'udp',
    server,
    local: toAddress(local.address, local.port, local.family),
    send: (frame) => {
      if (!closed) socket.send(frame);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      );
    },
  };
}

async function openStream(
  options: OpenTransportOptions,
  server: TransportAddress,
): Promise<StunTransport> {
  const socket: Socket =
    options.protocol === 'tls'
      ? tlsConnect({
          servername: options.host,
          ...options.tls,
          host: server.address,
          port: server.port,
        })
      : tcpConnect({ host: server.address, port: server.port });
  const ready = options.protocol === 'tls' ? 'secureConnect' : 'connect';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new TurnError(
          `no ${options.protocol.toUpperCase()} connection within ${options.timeoutMs} ms`,
          { kind: 'timeout' },
        ),
      );
    }, options.timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new TurnError(`cannot connect: ${err.message}`, { kind: 'network', cause: err }));
    });
    socket.once(ready, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  // Requests are small and wait for their answer: Nagle plus delayed ACK would add ~40 ms each.
  socket.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  let closing = false;
  socket.on('data', (chunk: Buffer) => {
    try {
      const { frames, rest } = splitStreamFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const frame of frames) options.onFrame(frame);
    } catch (err) {
      socket.destroy();
      options.onClose(err as TurnError);
    }
  });
  // coturn resets the connection when we close; that is not worth reporting.
  socket.on('error', (err) => {
    if (!closing)
      options.onClose(
        new TurnError(`connection error: ${err.message}`, { kind: 'network', cause: err }),
      );
  });
  socket.on('close', () => {
    if (!closing)
      options.onClose(new TurnError('the server closed the connection', { kind: 'closed' }));
  });
  return {
    protocol: options.protocol,
    server,
    local: toAddress(
      socket.localAddress ?? '',
      socket.localPort ?? 0,
      socket.localFamily ?? 'IPv4',
    ),
    send: (frame) => {
      if (!closing) socket.write(frame);
    },
    close: async () => {
      if (closing) return;
      closing = true;
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => {
          resolve();
        });
        socket.end();
        setTimeout(() => socket.destroy(), 200).unref();
      });
    },
  };
}

/** Resolves the server name and opens a UDP socket or a TCP/TLS connection to it. */
export async function openStunTransport(options: OpenTransportOptions): Promise<StunTransport> {
  let server: TransportAddress;
  try {
    const found = await lookup(options.host);
    server = toAddress(found.address, options.port, found.family);
  } catch (err) {
    throw new TurnError(`cannot resolve ${options.host}`, { kind: 'network', cause: err });
  }
  try {
    return options.protocol === 'udp'
      ? await openUdp(options, server)
      : await openStream(options, server);
  } catch (err) {
    if (err instanceof TurnError) throw err;
    throw new TurnError(`cannot open ${options.protocol} socket: ${String(err)}`, {
      kind: 'network',
      cause: err,
    });
  }
}

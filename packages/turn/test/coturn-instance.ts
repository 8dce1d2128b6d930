import { createSocket, type Socket } from 'node:dgram';
import { type Coturn, startCoturn } from '@rtc-sidecars/test-harness';
import { renderTurnserverConf, type TurnserverSettings } from '../src/render-turnserver-conf.ts';

/** A real coturn on 127.0.0.1 (the harness's), configured by this package's renderer. */
export interface CoturnInstance extends Coturn {
  readonly realm: string;
  /** `turn:127.0.0.1:<port>?transport=…` */
  uri(transport: 'udp' | 'tcp'): string;
}

/**
 * Starts coturn through the harness with the config {@link renderTurnserverConf} makes from
 * `settings` plus the harness's free ports and private directory, so these tests run the config
 * operators get. The relay range is 40 ports: the relay tests make many allocations in a row.
 */
export async function startCoturnInstance(
  settings: Omit<
    TurnserverSettings,
    'realm' | 'testOnly' | 'listeningPort' | 'relayPorts' | 'tls' | 'tlsListeningPort'
  > & {
    readonly allowLoopbackPeers: boolean;
    /** Also listen for TURN over TLS, with a fresh self-signed certificate for 127.0.0.1. */
    readonly tls?: boolean;
  },
): Promise<CoturnInstance> {
  const realm = 'turn.test';
  const { allowLoopbackPeers, tls, ...rest } = settings;
  const coturn = await startCoturn(
    (layout) =>
      renderTurnserverConf({
        ...rest,
        ...(layout.tls === undefined
          ? {}
          : {
              tlsListeningPort: layout.tls.port,
              tls: { certFile: layout.tls.certFile, keyFile: layout.tls.keyFile },
            }),
        realm,
        listeningPort: layout.port,
        relayPorts: layout.relayPorts,
        testOnly: { workDir: layout.workDir, allowLoopbackPeers },
      }),
    { relayPortCount: 40, tls: tls === true },
  );
  return {
    ...coturn,
    realm,
    uri: (transport) => `turn:127.0.0.1:${coturn.port}?transport=${transport}`,
  };
}

/** A UDP peer on 127.0.0.1 that echoes every datagram and remembers who sent it. */
export async function startEchoPeer(): Promise<{
  socket: Socket;
  port: number;
  senders: { address: string; port: number }[];
  close(): Promise<void>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const senders: { address: string; port: number }[] = [];
  socket.on('message', (msg, from) => {
    senders.push({ address: from.address, port: from.port });
    socket.send(msg, from.port, from.address);
  });
  return {
    socket,
    port: socket.address().port,
    senders,
    close: () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  };
}

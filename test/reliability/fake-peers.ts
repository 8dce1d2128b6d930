import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { OpenIdError } from '@rtc-sidecars/matrix-openid';
import type { OpenIdVerifier, RoomService } from '@rtc-sidecars/livekit-jwt';
import { VALID_TOKEN } from './token-body-arbitrary.ts';

/** A verifier that records every call; only {@link VALID_TOKEN} is accepted. */
export class RecordingVerifier implements OpenIdVerifier {
  public readonly calls: { accessToken: unknown; serverName: unknown }[] = [];

  public async verify(input: {
    accessToken: string;
    serverName: string;
  }): Promise<{ sub: string }> {
    this.calls.push({ accessToken: input.accessToken, serverName: input.serverName });
    await Promise.resolve();
    if (input.accessToken !== VALID_TOKEN) throw new OpenIdError('rejected', 'HTTP 401');
    return { sub: `@alice:${input.serverName}` };
  }

  public async close(): Promise<void> {}
}

/** A room service that records the rooms it is asked to create; nobody is ever in them. */
export class RecordingRooms implements RoomService {
  public readonly created: string[] = [];

  public async createRoom(name: string): Promise<void> {
    this.created.push(name);
    await Promise.resolve();
  }

  public async hasParticipant(): Promise<boolean> {
    return Promise.resolve(false);
  }

  public async close(): Promise<void> {}
}

/** Whether `jwt` is an HS256 token signed with `secret` (what a LiveKit server checks first). */
export function isSignedWith(jwt: string, secret: string): boolean {
  const parts = jwt.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A loopback homeserver stand-in that refuses every access token and counts whoami calls. */
export interface WhoamiRecorder {
  readonly url: string;
  readonly calls: string[];
  connections: number;
  close(): Promise<void>;
}

/** Starts a {@link WhoamiRecorder} on a free loopback port. */
export async function startWhoamiRecorder(): Promise<WhoamiRecorder> {
  const calls: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    calls.push(req.headers.authorization ?? '');
    res
      .writeHead(401, { 'content-type': 'application/json' })
      .end('{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}');
  });
  const recorder: WhoamiRecorder = {
    url: '',
    calls,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connection', (socket: Socket) => {
    recorder.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(recorder, { url: `http://127.0.0.1:${port}` });
}

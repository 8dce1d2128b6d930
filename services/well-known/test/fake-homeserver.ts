import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the homeserver, for what a real one cannot be made to do on demand
 * (hang, refuse a token in a chosen way) and for AutoDiscovery's `/_matrix/client/versions`
 * probe (it also answers the identity server probe `/_matrix/identity/v2`). Tokens pick the behaviour: `good-*` is accepted, `soft-*` is soft-logged-out,
 * `forbidden-*` is refused with 403, `broken-*` gets a 500 HTML page, `hang-*` never answers, `slow-*` is accepted after 600 ms;
 * anything else is unknown.
 */
export interface FakeHomeserver {
  readonly url: string;
  /** Authorization headers of every whoami request received. */
  readonly whoamiCalls: string[];
  close(): Promise<void>;
}

/** Starts the fake on a free loopback port. */
export async function startFakeHomeserver(): Promise<FakeHomeserver> {
  const whoamiCalls: string[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/_matrix/client/versions') {
      json(200, { versions: ['v1.11', 'v1.12'] });
      return;
    }
    if (req.url === '/_matrix/identity/v2') {
      json(200, {});
      return;
    }
    if (req.url !== '/_matrix/client/v3/account/whoami') {
      json(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      return;
    }
    const auth = req.headers.authorization ?? '';
    whoamiCalls.push(auth);
    const token = auth.replace(/^Bearer /, '');
    if (token.startsWith('good-')) json(200, { user_id: '@alice:example.org', device_id: 'D' });
    else if (token.startsWith('soft-'))
      json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'expired', soft_logout: true });
    else if (token.startsWith('forbidden-'))
      json(403, { errcode: 'M_USER_LOCKED', error: 'locked' });
    else if (token.startsWith('broken-'))
      res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>');
    else if (token.startsWith('hang-')) hanging.push(res);
    else if (token.startsWith('slow-')) {
      setTimeout(() => {
        json(200, { user_id: '@slow:example.org' });
      }, 600);
    } else json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown token' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    whoamiCalls,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

import type { Livekit } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.ts';
import { loadServiceConfig } from '../src/config.ts';
import { FakeVerifier } from './helpers.ts';

/** Waits for `condition`; the bound only keeps a broken run from hanging. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A webhook LiveKit posted: which node sent it (its path), what it was about, and who got it. */
export interface Delivery {
  readonly from: string;
  readonly event: string;
  readonly room: string | undefined;
  readonly identity: string | undefined;
  readonly to: readonly string[];
}

/**
 * Stands between the LiveKit nodes and the replicas: each node posts to `<url>/<node name>`, and
 * the signed body is forwarded byte for byte (so its signature still holds) to every current
 * target at once. It records which node sent which event, and lets a test deliver one webhook
 * to several replicas, as a retrying or duplicating network would.
 */
export class WebhookRelay {
  public readonly deliveries: Delivery[] = [];
  /** Replica base URLs each webhook is forwarded to (concurrently). */
  public targets: string[] = [];
  private readonly server = createServer((req, res) => {
    void this.relay(req).finally(() => res.end());
  });
  public url = '';

  public async start(): Promise<this> {
    this.url = await listen(this.server);
    return this;
  }

  /** The participant events of `room` as delivered, e.g. `['participant_joined', …]`. */
  public eventsOf(room: string): Delivery[] {
    return this.deliveries.filter((d) => d.room === room && d.event.startsWith('participant_'));
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async relay(req: IncomingMessage): Promise<void> {
    const body = await readBody(req);
    const event = JSON.parse(body.toString()) as {
      event?: string;
      room?: { name?: string };
      participant?: { identity?: string };
    };
    const to = [...this.targets];
    this.deliveries.push({
      from: (req.url ?? '').slice(1),
      event: event.event ?? '',
      room: event.room?.name,
      identity: event.participant?.identity,
      to,
    });
    const headers: Record<string, string> = { 'content-type': 'application/webhook+json' };
    if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
    // A replica that is down loses the delivery, as it would behind a real load balancer.
    await Promise.allSettled(
      to.map(async (target) => {
        const res = await fetch(`${target}/sfu_webhook`, { method: 'POST', headers, body });
        await res.arrayBuffer();
      }),
    );
  }
}

/** What every replica shares: the SFU credentials, the homeserver override and the Redis. */
export interface ReplicaSetup {
  readonly key: string;
  readonly secret: string;
  readonly serverName: string;
  readonly csApi: string;
  readonly redisUrl: string;
}

/** A livekit-jwt replica on `port`, talking to `node`, with its jobs in the shared Redis. */
export async function startReplica(
  setup: ReplicaSetup,
  node: Livekit,
  port: number,
): Promise<FastifyInstance> {
  const { config } = loadServiceConfig({
    LIVEKIT_URL: node.wsUrl,
    LIVEKIT_KEY: setup.key,
    LIVEKIT_SECRET: setup.secret,
    LIVEKIT_FULL_ACCESS_HOMESERVERS: setup.serverName,
    LIVEKIT_CS_API_URL_OVERRIDES: `${setup.serverName}=${setup.csApi}`,
    LIVEKIT_JWT_RATE_LIMIT: '0',
    LIVEKIT_REDIS_URL: setup.redisUrl,
  });
  const app = await buildApp({ config, verifier: new FakeVerifier(), logStream: false });
  await app.listen({ host: '127.0.0.1', port });
  return app;
}

/** The node ID a livekit-server (started at `info` level) logged when it started. */
export function nodeIdOf(node: Livekit): string {
  const id = /"nodeID": "([^"]+)"/.exec(node.process.output())?.[1];
  if (id === undefined) throw new Error(`no node ID in:\n${node.process.output()}`);
  return id;
}

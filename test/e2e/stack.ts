import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestCertificates,
  type Coturn,
  freePort,
  type Livekit,
  type NodeService,
  onLoopback,
  startCoturn,
  startLivekitFrom,
  startNodeService,
  startRedis,
  startSynapse,
  type Synapse,
} from '@rtc-sidecars/test-harness';
import { type GeneratedDeployment, initDeployment, type StackSecrets } from './init-deployment.ts';
import { domainFetch, type FrontDoor, JWT_PREFIX, startFrontDoor } from './front-door.ts';
import YAML from 'yaml';
import type { Timings } from './timings.ts';

/** The public domain the client is given, as a user types it into Element. */
export const DOMAIN = 'call.e2e.test';

/** Every component of the call path, running on loopback. */
export interface Stack {
  readonly secrets: StackSecrets;
  /** The livekit.yaml and turnserver.conf `rtc-sidecars init` wrote, before `onLoopback`. */
  readonly generated: GeneratedDeployment;
  readonly synapse: Synapse;
  readonly livekit: Livekit;
  readonly coturn: Coturn;
  readonly wellKnown: NodeService;
  readonly livekitJwt: NodeService;
  readonly frontDoor: FrontDoor;
  /** The public client base URL (`https://<DOMAIN>`, reached through {@link Stack.fetch}). */
  readonly publicBaseUrl: string;
  /** The LiveKit focus URL clients find in discovery. */
  readonly livekitServiceUrl: string;
  /** `fetch` that resolves {@link DOMAIN} to the front door. */
  readonly fetch: typeof fetch;
  /** PEM of the CA that signed Synapse's federation certificate. */
  readonly federationCa: string;
  /** The coturn URI Synapse hands out (legacy 1:1 calls). */
  readonly turnUri: string;
  /** The coturn URIs LiveKit's join response names (from livekit.yaml's `rtc.turn_servers`). */
  readonly livekitTurnUris: readonly string[];
  stop(): Promise<void>;
}

/** Options for {@link startStack}. */
export interface StackOptions {
  /** Run Synapse with presence enabled and unthrottled (off by default, see `startSynapse`). */
  readonly presence?: boolean;
  /**
   * Delegated delayed leave (MSC4140): Synapse accepts delayed events (up to
   * {@link MAX_EVENT_DELAY_MS}) and livekit-jwt reaches Synapse's client-server API through
   * `LIVEKIT_CS_API_URL_OVERRIDES`. The jobs live in a real redis-server
   * (`LIVEKIT_REDIS_URL`), as in the scaled deployment. Off by default, so the other suites run
   * unchanged.
   */
  readonly delayedLeave?: boolean;
}

/** Longest MSC4140 delay Synapse allows with {@link StackOptions.delayedLeave}: a day. */
export const MAX_EVENT_DELAY_MS = 24 * 60 * 60 * 1000;

/** Something started that has to be stopped again. */
interface Stoppable {
  stop(): Promise<unknown>;
}

function isStoppable(value: unknown): value is Stoppable {
  return typeof value === 'object' && value !== null && 'stop' in value;
}

/**
 * Awaits every start; tracks each started component (so it gets stopped), then throws the first
 * failure. Unlike `Promise.all`, nothing that started is forgotten when another start failed.
 */
async function allStarted<const T extends readonly Promise<unknown>[]>(
  starts: T,
  track: (c: Stoppable) => unknown,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(starts);
  for (const r of results) if (r.status === 'fulfilled' && isStoppable(r.value)) track(r.value);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/**
 * Starts the whole stack from the secrets `rtc-sidecars init` generates: coturn (config rendered by
 * packages/turn), Synapse (TURN secret shared with coturn), livekit-server, the well-known and
 * livekit-jwt services as separate processes, and a front door routing one domain to them.
 * Independent components start concurrently; whatever started is stopped if a later one fails.
 */
export async function startStack(timings: Timings, options: StackOptions = {}): Promise<Stack> {
  const generated = await timings.measure('rtc-sidecars init', () => initDeployment(DOMAIN));
  const { secrets } = generated;
  const started: Stoppable[] = [];
  const track = <T extends Stoppable>(component: T): T => {
    started.push(component);
    return component;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.reverse().map((c) => c.stop()));
  };
  try {
    // Synapse's federation listener gets a certificate from a throw-away CA that only
    // livekit-jwt trusts, so OpenID verification runs the real path: server-name resolution,
    // then verified TLS to the federation port.
    const certDir = await mkdtemp(join(tmpdir(), 'e2e-ca-'));
    started.push({ stop: () => rm(certDir, { recursive: true, force: true }) });
    const [coturn, certificates] = await allStarted(
      [
        // The turnserver.conf init wrote, on loopback.
        timings.measure('start coturn', () =>
          startCoturn((layout) =>
            onLoopback(generated.turnserverConf, { kind: 'turnserver.conf', ...layout }),
          ),
        ),
        timings.measure('issue test certificates', () =>
          createTestCertificates(certDir, { dnsNames: ['localhost'], ips: ['127.0.0.1'] }),
        ),
      ] as const,
      track,
    );
    const turnUri = `turn:127.0.0.1:${coturn.port}?transport=udp`;
    const synapsePorts = { client: await freePort(), federation: await freePort() };
    // An IP literal, not `localhost`: resolvers dial the first address of a name, and where
    // `localhost` resolves to ::1 first that would miss Synapse's 127.0.0.1 listener.
    const serverName = `127.0.0.1:${synapsePorts.federation}`;
    const [jwtPort, wellKnownPort] = [await freePort(), await freePort()];
    const delayedLeave = options.delayedLeave === true;
    const csApiOverride = `${serverName}=http://127.0.0.1:${synapsePorts.client}`;
    const redis = delayedLeave
      ? track(await timings.measure('start redis-server', () => startRedis()))
      : undefined;

    // The livekit.yaml init wrote, on loopback: its TURN entries name the coturn above, its
    // webhook livekit-jwt (which starts later on a port chosen now; LiveKit only posts once
    // rooms exist).
    const livekitP = timings.measure('start livekit-server', () =>
      startLivekitFrom((ports) =>
        onLoopback(generated.livekitYaml, {
          kind: 'livekit.yaml',
          ...ports,
          turnPort: coturn.port,
          webhookUrls: [`http://127.0.0.1:${jwtPort}/sfu_webhook`],
        }),
      ),
    );
    const synapseP = timings.measure('start Synapse', () =>
      startSynapse({
        ports: synapsePorts,
        federationTls: { certPath: certificates.certPath, keyPath: certificates.keyPath },
        turn: { uris: [turnUri], sharedSecret: secrets.turnSecret, userLifetime: '1h' },
        presence: options.presence === true,
        ...(delayedLeave ? { maxEventDelayMs: MAX_EVENT_DELAY_MS } : {}),
      }),
    );
    let livekit: Livekit;
    try {
      livekit = track(await livekitP);
    } catch (err) {
      await synapseP.then(track, () => undefined);
      throw err;
    }
    const jwtP = timings.measure('start livekit-jwt', () =>
      startNodeService({
        name: 'livekit-jwt',
        port: jwtPort,
        env: (port) => ({
          LIVEKIT_URL: livekit.wsUrl,
          LIVEKIT_KEY: secrets.livekitKey,
          LIVEKIT_SECRET: secrets.livekitSecret,
          LIVEKIT_FULL_ACCESS_HOMESERVERS: serverName,
          LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
          // The homeserver lives on loopback, which the SSRF guard refuses unless told.
          LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'true',
          NODE_EXTRA_CA_CERTS: certificates.caPath,
          // Info logs every webhook, which is what makes a failed delayed-leave run readable.
          LIVEKIT_LOG_LEVEL: delayedLeave ? 'info' : 'warn',
          // The server name's HTTPS port is Synapse's federation listener, which serves no
          // `/.well-known/matrix/client`: the override names the client listener, as operators do.
          ...(delayedLeave ? { LIVEKIT_CS_API_URL_OVERRIDES: csApiOverride } : {}),
          ...(redis === undefined ? {} : { LIVEKIT_REDIS_URL: redis.url }),
        }),
      }),
    );
    const publicBaseUrl = `https://${DOMAIN}`;
    const livekitServiceUrl = `${publicBaseUrl}${JWT_PREFIX}`;
    const wellKnownP = timings.measure('start well-known', () =>
      startNodeService({
        name: 'well-known',
        port: wellKnownPort,
        env: (port) => ({
          WELL_KNOWN_BIND: `127.0.0.1:${port}`,
          WELL_KNOWN_HOMESERVER_BASE_URL: publicBaseUrl,
          WELL_KNOWN_HOMESERVER_INTERNAL_URL: `http://127.0.0.1:${synapsePorts.client}`,
          WELL_KNOWN_SERVER: serverName,
          WELL_KNOWN_LIVEKIT_SERVICE_URLS: livekitServiceUrl,
          WELL_KNOWN_LOG_LEVEL: 'warn',
        }),
      }),
    );
    const [synapse, livekitJwt, wellKnown] = await allStarted(
      [synapseP, jwtP, wellKnownP] as const,
      track,
    );
    const frontDoor = await startFrontDoor({
      wellKnown: wellKnown.url,
      livekitJwt: livekitJwt.url,
      homeserver: synapse.baseUrl,
    });
    started.push({ stop: () => frontDoor.close() });
    return {
      secrets,
      generated,
      synapse,
      livekit,
      coturn,
      wellKnown,
      livekitJwt,
      frontDoor,
      publicBaseUrl,
      livekitServiceUrl,
      fetch: domainFetch(DOMAIN, frontDoor.url),
      turnUri,
      livekitTurnUris: ['udp', 'tcp'].map((t) => `turn:127.0.0.1:${coturn.port}?transport=${t}`),
      federationCa: certificates.caPem,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A second livekit-server from the stack's generated livekit.yaml whose `rtc.turn_servers` sign
 * with `turnSecret` instead of TURN_SECRET: the one deliberate fault of the negative TURN runs
 * (a livekit.yaml that drifted from coturn's static-auth-secret). Same keys as the stack, so
 * livekit-jwt and livekit-server-sdk tokens work; the caller stops it.
 */
export async function startLivekitWithTurnSecret(
  stack: Stack,
  turnSecret: string,
): Promise<Livekit> {
  const config = YAML.parse(stack.generated.livekitYaml) as {
    rtc: { turn_servers: { secret: string }[] };
  };
  for (const entry of config.rtc.turn_servers) entry.secret = turnSecret;
  return startLivekitFrom((ports) =>
    onLoopback(YAML.stringify(config), {
      kind: 'livekit.yaml',
      ...ports,
      turnPort: stack.coturn.port,
    }),
  );
}

import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config.ts';
import { DelayedLeaveJobs } from './delayed-leave-jobs.ts';
import type { HomeserverClient } from './homeserver-client.ts';
import { type JobStore, MemoryJobStore } from '../stores/job-store.ts';
import type { JobClock } from './leave-types.ts';
import { RedisJobStore } from '../stores/redis-job-store.ts';
import type { RoomService } from '../livekit/room-service.ts';
import type { TokenMetrics } from '../tokens/token-metrics.ts';

/** Metric label of a participant lookup's answer. */
const LOOKUP_RESULT: Readonly<Record<string, string>> = {
  true: 'present',
  false: 'absent',
  undefined: 'unknown',
};

/** A shared store is polled this often for jobs made due elsewhere (leases, other replicas). */
const SHARED_STORE_POLL_MS = 250;

/** What {@link delayedLeaveJobs} wires together. */
export interface DelayedLeaveSetup {
  readonly config: ServiceConfig;
  readonly homeserver: HomeserverClient;
  readonly rooms: RoomService;
  readonly metrics: TokenMetrics;
  /** Default: Redis at `config.redisUrl`, else this process's memory. */
  readonly store?: JobStore;
  readonly clock?: JobClock;
  readonly pollMs?: number;
}

/**
 * The delegated delayed leave jobs of the app, started: on Redis when `LIVEKIT_REDIS_URL` is set
 * (connected here, so an unreachable Redis fails the start), else in memory; their metrics and
 * logs (a failing store is reported once, and again when it is back); the participant lookups
 * of waiting jobs through `rooms` (`GetParticipant`); the periodic sanity check;
 * and a `preClose` hook that stops them before the homeserver client closes.
 *
 * @throws RedisConnectError when Redis cannot be reached.
 */
export async function delayedLeaveJobs(
  app: FastifyInstance,
  setup: DelayedLeaveSetup,
): Promise<DelayedLeaveJobs> {
  const { config, homeserver, rooms, metrics } = setup;
  const store =
    setup.store ??
    (config.redisUrl === undefined
      ? new MemoryJobStore()
      : await RedisJobStore.connect(config.redisUrl));
  // The job loop reports a failing store once, and again when it works after that.
  let storeFailing = false;
  const storeError = (err: unknown): void => {
    if (storeFailing) return;
    storeFailing = true;
    app.log.error({ reason: err instanceof Error ? err.message : 'error' }, 'job store failing');
  };
  const jobs = new DelayedLeaveJobs({
    store,
    client: homeserver,
    lookup: (room, identity) => rooms.hasParticipant(room, identity),
    onLookup: (present) => {
      metrics.participantLookups.inc({ result: LOOKUP_RESULT[String(present)] });
    },
    resolveCsApi: (name) => homeserver.resolveCsApi(name),
    ...(setup.clock === undefined ? {} : { clock: setup.clock }),
    pollMs: setup.pollMs ?? (store instanceof MemoryJobStore ? Infinity : SHARED_STORE_POLL_MS),
    onEnd: (params, outcome) => {
      metrics.jobsEnded.inc({ outcome });
      app.log.info({ room: params.room, outcome }, 'delayed leave job ended');
    },
    onError: storeError,
    onRecover: () => {
      if (!storeFailing) return;
      storeFailing = false;
      app.log.info('job store reachable again');
    },
  });
  await jobs.start();
  metrics.trackJobs(() => jobs.count());
  // Sanity check: catches participants that vanished without a webhook.
  if (config.sanityCheckIntervalSeconds > 0) {
    let sweeping = false;
    const timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      void jobs
        .sweep((room, identity) => rooms.hasParticipant(room, identity))
        // The store is away (Redis down): the next sweep tries again. Left unhandled, the
        // rejection would end the process.
        .catch(storeError)
        .finally(() => {
          sweeping = false;
        });
    }, config.sanityCheckIntervalSeconds * 1000);
    timer.unref();
    app.addHook('preClose', async () => {
      clearInterval(timer);
    });
  }
  // Stop acting before the homeserver client closes; in Redis the jobs carry on elsewhere.
  app.addHook('preClose', async () => {
    await jobs.close();
  });
  return jobs;
}

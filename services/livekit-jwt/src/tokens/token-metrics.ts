import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Buckets in seconds: a restricted token is sub-millisecond locally; OpenID lookups can take seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Token-endpoint metrics on the app's registry: answers and latency by endpoint and outcome
 * (`ok_full`, `ok_restricted`, `not_json`, `bad_json`, `openid_<failure kind>`,
 * `claimed_user_mismatch`, `room_creation_failed`, `too_large`, `rate_limited`, …), plus the
 * latency of the two outbound calls.
 */
export class TokenMetrics {
  private readonly requests: Counter<'endpoint' | 'outcome'>;
  private readonly duration: Histogram<'endpoint' | 'outcome'>;
  /** OpenID verification latency by result (`ok` or a failure kind). */
  public readonly openId: Histogram<'result'>;
  /** RoomService CreateRoom latency by result (`ok` or `error`). */
  public readonly createRoom: Histogram<'result'>;
  /** Delayed leave jobs that ended, by outcome (`sent`, `event_gone`, `replaced`, …). */
  public readonly jobsEnded: Counter<'outcome'>;
  /** `GetParticipant` lookups of waiting delayed leave jobs, by `present`, `absent`, `unknown`. */
  public readonly participantLookups: Counter<'result'>;
  private readonly registry: Registry;

  public constructor(registry: Registry) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({
      name: 'livekit_jwt_token_requests_total',
      help: 'Token endpoint answers by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'livekit_jwt_token_request_duration_seconds',
      help: 'Token endpoint latency by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      buckets: BUCKETS,
      registers,
    });
    this.openId = new Histogram({
      name: 'livekit_jwt_openid_verify_duration_seconds',
      help: 'Matrix OpenID userinfo verification latency by result',
      labelNames: ['result'],
      buckets: BUCKETS,
      registers,
    });
    this.createRoom = new Histogram({
      name: 'livekit_jwt_create_room_duration_seconds',
      help: 'LiveKit RoomService CreateRoom latency by result',
      labelNames: ['result'],
      buckets: BUCKETS,
      registers,
    });
    this.jobsEnded = new Counter({
      name: 'livekit_jwt_delayed_leave_jobs_ended_total',
      help: 'Delegated delayed leave jobs that ended, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.participantLookups = new Counter({
      name: 'livekit_jwt_participant_lookups_total',
      help: 'GetParticipant lookups of delegated members not yet seen joining, by result',
      labelNames: ['result'],
      registers,
    });
  }

  /** Exposes the number of live delayed leave jobs, read at scrape time. */
  public trackJobs(count: () => Promise<number>): void {
    new Gauge({
      name: 'livekit_jwt_delayed_leave_jobs',
      help: 'Delegated delayed leave jobs in progress',
      registers: [this.registry],
      // Read at scrape time; with Redis, every replica's jobs (-1 while Redis is away).
      async collect() {
        this.set(await count().catch(() => -1));
      },
    });
  }

  /** Labelled children by `endpoint outcome`: a Map lookup instead of hashing labels per request. */
  private readonly children = new Map<
    string,
    { count: { inc(): void }; time: { observe(value: number): void } }
  >();

  /** Records one answer of a token endpoint. */
  public observe(endpoint: string, outcome: string, seconds: number): void {
    const key = `${endpoint} ${outcome}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = {
        count: this.requests.labels({ endpoint, outcome }),
        time: this.duration.labels({ endpoint, outcome }),
      };
      this.children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  }
}

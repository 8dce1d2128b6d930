import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const DELAYED_EVENTS = '/_matrix/client/unstable/org.matrix.msc4140/delayed_events/';

/** One MSC4140 call the service made, and when it arrived. */
export interface DelayedEventCall {
  readonly delayId: string;
  readonly action: string;
  readonly at: number;
}

/** A scripted answer: a status (body `{}` unless given), or no answer for `hangMs`. */
export type HomeserverAnswer =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | { readonly hangMs: number };

/**
 * A loopback homeserver for the delayed-leave tests: records every restart and send as it
 * arrives and answers it with the next scripted answer from `answers`, else 200 `{}` after
 * `latencyMs`. A latency longer than the replicas' store poll means another replica always
 * looks at the store while a call is in flight, so only a real claim keeps the calls single.
 */
export class RecordingHomeserver {
  public readonly calls: DelayedEventCall[] = [];
  /** Answers for the next calls, in order; taken from the front. */
  public answers: HomeserverAnswer[] = [];
  public url = '';
  private readonly latencyMs: number;
  private readonly server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'POST' && path.startsWith(DELAYED_EVENTS)) {
      const [delayId = '', action = ''] = path.slice(DELAYED_EVENTS.length).split('/');
      this.calls.push({ delayId, action, at: Date.now() });
    }
    const answer = this.answers.shift() ?? { status: 200 };
    if ('hangMs' in answer) {
      setTimeout(() => res.end('{}'), answer.hangMs).unref();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    setTimeout(() => res.end(answer.body ?? '{}'), this.latencyMs);
  });

  public constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  public async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Every call as `<delay_id>/<action>`, in order of arrival. */
  public paths(): string[] {
    return this.calls.map((call) => `${call.delayId}/${call.action}`);
  }

  /** The calls for one delayed event, in order of arrival. */
  public of(delayId: string): DelayedEventCall[] {
    return this.calls.filter((call) => call.delayId === delayId);
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

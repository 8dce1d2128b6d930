import { DisconnectReason } from '@livekit/protocol';
import type { FastifyInstance } from 'fastify';
import { type WebhookEvent, WebhookReceiver } from 'livekit-server-sdk';
import { Counter, type Registry } from 'prom-client';
import type { ParticipantEvent } from './leave-types.ts';
import type { DelayedLeaveJobs } from './delayed-leave-jobs.ts';

/** Options of {@link webhookRoutes}. */
export interface WebhookRoutesOptions {
  readonly key: string;
  readonly secret: string;
  readonly jobs: DelayedLeaveJobs;
  readonly registry: Registry;
}

/**
 * `/sfu_webhook`: LiveKit's webhooks, verified with livekit-server-sdk's `WebhookReceiver`
 * (an HS256 JWT from our own key and secret in `Authorization`, carrying the body's SHA-256).
 * Participant joins and departures drive the delayed leave jobs. As upstream, every method is
 * accepted and the answer is always an empty 200, so a sender learns nothing; unsigned or
 * tampered requests are only logged and counted.
 */
export async function webhookRoutes(
  app: FastifyInstance,
  options: WebhookRoutesOptions,
): Promise<void> {
  const receiver = new WebhookReceiver(options.key, options.secret);
  const webhooks = new Counter({
    name: 'livekit_jwt_webhooks_total',
    help: 'LiveKit webhooks by result: routed to a job, no job, ignored event type, invalid, or job store unavailable',
    labelNames: ['result'],
    registers: [options.registry],
  });

  app.all('/sfu_webhook', async (request, reply) => {
    const body = request.body instanceof Uint8Array ? Buffer.from(request.body).toString() : '';
    let event: WebhookEvent;
    try {
      event = await receiver.receive(body, request.headers.authorization);
    } catch (err) {
      webhooks.inc({ result: 'invalid' });
      request.log.warn({ reason: reasonOf(err) }, 'webhook refused');
      return reply.code(200).send();
    }
    const participantEvent = participantEventOf(event);
    const room = event.room?.name;
    const identity = event.participant?.identity;
    if (participantEvent === undefined || room === undefined || identity === undefined) {
      webhooks.inc({ result: 'ignored' });
      return reply.code(200).send();
    }
    let routed: boolean;
    try {
      routed = await options.jobs.dispatch(room, identity, participantEvent);
    } catch (err) {
      // The job store (Redis) is away. Still the reference's empty 200: the participant lookup
      // (joins) and the sanity check (departures) catch the member up once the store is back.
      webhooks.inc({ result: 'unavailable' });
      request.log.warn({ event: event.event, room, reason: reasonOf(err) }, 'webhook not applied');
      return reply.code(200).send();
    }
    webhooks.inc({ result: routed ? 'routed' : 'no_job' });
    request.log.info({ event: event.event, room, routed }, 'webhook');
    return reply.code(200).send();
  });
}

// Compared as a number: the SDK's events carry its own copy of the protocol's enum.
const CLIENT_INITIATED: number = DisconnectReason.CLIENT_INITIATED;

/** Upstream's mapping: a departure is intentional only when the client initiated it. */
function participantEventOf(event: WebhookEvent): ParticipantEvent | undefined {
  switch (event.event) {
    case 'participant_joined':
      return 'joined';
    case 'participant_left':
    case 'participant_connection_aborted': {
      const reason: number | undefined = event.participant?.disconnectReason;
      return reason === CLIENT_INITIATED ? 'left_intentionally' : 'connection_aborted';
    }
    default:
      return undefined;
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : 'error';
}

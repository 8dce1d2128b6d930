import { dispose } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe } from 'vitest';
import { CallContext } from './call-context.ts';
import { callPathSteps } from './call-path-steps.ts';
import { negativePathSteps } from './negative-path-steps.ts';
import { startStack } from './stack.ts';

// One stack (one Synapse) for every step: the steps run in order and build on each other.
// Generous per-test limit: on a loaded 2-core CI machine Synapse alone can take seconds per call.
describe(
  'call path end to end (Synapse, livekit-server, coturn, well-known, livekit-jwt)',
  { timeout: 60_000 },
  () => {
    const ctx = new CallContext();

    beforeAll(async () => {
      const stack = await ctx.hop('start whole stack', () => startStack(ctx.timings));
      ctx.stack = stack;
      ctx.cleanup.push(() => stack.stop());
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(ctx.rooms.map((r) => r.disconnect()));
      await dispose();
      for (const undo of ctx.cleanup.reverse()) await undo();
      console.log(ctx.timings.report('e2e call path'));
    });

    callPathSteps(ctx);
    negativePathSteps(ctx);
  },
);

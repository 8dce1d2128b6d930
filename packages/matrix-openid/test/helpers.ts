// Shared set-up for the verifier tests: servers and verifiers closed after each test, and a
// helper that awaits a rejection and checks it is a token-free OpenIdError.
import { afterEach, expect } from 'vitest';
import {
  createOpenIdVerifier,
  type DnsResolver,
  OpenIdError,
  type OpenIdVerifier,
  type OpenIdVerifierOptions,
} from '../src/index.ts';
import { type FakeHomeserver, startFakeHomeserver } from './fake-homeserver.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A fake homeserver that is closed after the test. */
export async function homeserver(
  ...args: Parameters<typeof startFakeHomeserver>
): Promise<FakeHomeserver> {
  const hs = await startFakeHomeserver(...args);
  cleanups.push(() => hs.close());
  return hs;
}

/** A verifier that is closed after the test. */
export function verifier(options: OpenIdVerifierOptions): OpenIdVerifier {
  const v = createOpenIdVerifier(options);
  cleanups.push(() => v.close());
  return v;
}

/** The rejection of `promise`, checked to be an OpenIdError that never mentions `token`. */
export async function failure(promise: Promise<unknown>, token = 'good'): Promise<OpenIdError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenIdError);
  const e = error as OpenIdError;
  expect(JSON.stringify({ m: e.message, c: e.cause, s: e.stack })).not.toContain(token);
  return e;
}

/** A DNS resolver answering from fixed tables, recording what it was asked. */
export function fixedDns(
  hosts: Record<string, string[]>,
  srv: Record<string, { name: string; port: number }[]> = {},
): DnsResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup(hostname) {
      asked.push(hostname);
      const addresses = hosts[hostname];
      if (addresses === undefined) {
        return Promise.reject(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
        );
      }
      return Promise.resolve(
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    },
    resolveSrv(name) {
      asked.push(`SRV ${name}`);
      const records = srv[name] ?? [];
      return Promise.resolve(records.map((r) => ({ ...r, priority: 0, weight: 0 })));
    },
  };
}

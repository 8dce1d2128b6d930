// The set-up the in-process reliability tests share (raw HTTP, overload, SSRF): one livekit-jwt
// configuration, and apps listening on kernel-chosen loopback ports for tests that need sockets.
import { loadServiceConfig, type ServiceConfig } from '@rtc-sidecars/livekit-jwt';
import type { FastifyInstance } from 'fastify';

/**
 * livekit-jwt's configuration for tests that never reach an SFU: full access for example.com
 * only and no rate limit (the tests send many requests from one address). `env` adds or
 * replaces variables, e.g. the shedding thresholds.
 */
export function livekitJwtConfig(env: Readonly<Record<string, string>> = {}): ServiceConfig {
  return loadServiceConfig({
    LIVEKIT_URL: 'wss://sfu.example.org',
    LIVEKIT_KEY: 'key',
    LIVEKIT_SECRET: 'reliability-secret-0123456789abcdef-0123456789',
    LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
    LIVEKIT_JWT_RATE_LIMIT: '0',
    ...env,
  }).config;
}

/** Makes every app listen on its own free port of 127.0.0.1; returns the ports by name. */
export async function listenOnLoopback(
  apps: Readonly<Record<string, FastifyInstance>>,
): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const [name, app] of Object.entries(apps)) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (typeof address !== 'object' || address === null) throw new Error(`${name}: no port`);
    ports[name] = address.port;
  }
  return ports;
}

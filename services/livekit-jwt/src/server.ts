// Entry point: reads the environment, listens, and shuts down gracefully on SIGTERM.
import { ConfigError } from '@rtc-sidecars/config';
import { serve } from '@rtc-sidecars/http-kit';
import { createOpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import { buildApp } from './app.ts';
import { loadServiceConfig } from './config.ts';
import { RedisConnectError } from './stores/redis-job-store.ts';
import { verifierOptions } from './verifier-options.ts';

let loaded;
try {
  loaded = loadServiceConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`livekit-jwt: ${err.message}\n`);
  process.exit(1);
}
const { config, warnings } = loaded;

const verifier = createOpenIdVerifier(verifierOptions(config));
let app;
try {
  app = await buildApp({ config, verifier });
} catch (err) {
  if (!(err instanceof RedisConnectError)) throw err;
  // The reference's wording, naming the variable but not its value (it may hold a password).
  process.stderr.write(
    `livekit-jwt: Could not connect Redis store (LIVEKIT_REDIS_URL): ${err.message}\n`,
  );
  await verifier.close();
  process.exit(1);
}
for (const warning of warnings) app.log.warn(warning);

const { host, port } = config.listen;
let address: string;
if (host !== undefined) {
  address = await serve(app, { host, port });
} else {
  // Every interface: dual-stack "::" where the kernel has IPv6, else IPv4 only (as upstream).
  try {
    address = await serve(app, { host: '::', port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    address = await serve(app, { host: '0.0.0.0', port });
  }
}
app.log.info(
  {
    address,
    livekitUrl: config.livekitUrl,
    apiUrl: config.apiUrl,
    fullAccessHomeservers: config.fullAccessHomeservers,
    rateLimitPerMinute: config.rateLimitPerMinute,
    delayedLeaveJobs: config.redisUrl === undefined ? 'memory (single replica)' : 'redis (shared)',
  },
  'livekit-jwt listening',
);

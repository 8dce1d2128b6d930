// Entry point: reads the environment, listens, and shuts down gracefully on SIGTERM.
import { ConfigError } from '@rtc-sidecars/config';
import { serve } from '@rtc-sidecars/http-kit';
import { buildApp } from './build-app.ts';
import { loadWellKnownConfig, type WellKnownConfig } from './config.ts';

let config: WellKnownConfig;
try {
  config = loadWellKnownConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`well-known: ${err.message}\n`);
  process.exit(1);
}
await serve(buildApp(config), config.bind);

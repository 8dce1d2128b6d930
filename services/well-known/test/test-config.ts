import type { Env } from '@rtc-sidecars/config';
import { loadWellKnownConfig, type WellKnownConfig } from '../src/config.ts';

/** A full configuration as an operator would write it, plus overrides. */
export function testConfig(overrides: Env = {}): WellKnownConfig {
  return loadWellKnownConfig({
    WELL_KNOWN_BIND: '127.0.0.1:0',
    WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
    WELL_KNOWN_SERVER: 'matrix.example.org:443',
    WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org/livekit-jwt',
    WELL_KNOWN_IDENTITY_SERVER_BASE_URL: 'https://vector.im',
    WELL_KNOWN_CLIENT_EXTRA: '{"io.element.e2ee":{"default":true}}',
    WELL_KNOWN_SUPPORT_PAGE: 'https://example.org/help',
    WELL_KNOWN_SUPPORT_CONTACTS:
      '[{"role":"m.role.admin","matrix_id":"@admin:example.org","email_address":"admin@example.org"}]',
    WELL_KNOWN_HOMESERVER_INTERNAL_URL: 'http://127.0.0.1:9',
    WELL_KNOWN_LOG_LEVEL: 'silent',
    // Test processes block their event loop (workers, other files); shedding has its own test.
    WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides,
  });
}

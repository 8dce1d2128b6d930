// Public surface of the service package, for tests, benchmarks and end-to-end set-ups.
export { BODY_LIMIT, buildApp, type AppDependencies } from './app.ts';
export { apiUrlFromLiveKitUrl, type ListenAddress, type LogLevel } from './config-values.ts';
export {
  type LoadedConfig,
  loadServiceConfig,
  MIN_SECRET_LENGTH,
  type ServiceConfig,
  SKIP_VERIFY_MAGIC,
} from './config.ts';
export { CORS_HEADERS } from './cors.ts';
export {
  hashParts,
  LEGACY_SLOT_ID,
  legacyIdentity,
  legacyRoomAlias,
  participantIdentity,
  roomAlias,
} from './tokens/room-identity.ts';
export {
  encodeCreateRoomRequest,
  type RoomService,
  TwirpRoomService,
} from './livekit/room-service.ts';
export { MESSAGES } from './tokens/token-error.ts';
export { TokenMinter } from './tokens/token-minter.ts';
export type { OpenIdVerifier } from './tokens/token-service.ts';
export { verifierOptions } from './verifier-options.ts';

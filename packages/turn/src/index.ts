export {
  type CreateTurnCredentialsOptions,
  createTurnCredentials,
  DEFAULT_MAX_TTL_SECONDS,
  parseTurnUsername,
  type TurnCredentialCheck,
  TurnCredentialError,
  type TurnCredentials,
  turnPassword,
  type VerifyTurnCredentialsOptions,
  verifyTurnCredentials,
} from './turn-credentials.ts';
export { normalizeTurnUris, type NormalizeTurnUrisOptions } from './normalize-turn-uris.ts';
export {
  formatTurnUri,
  parseTurnUri,
  type TurnUri,
  TurnUriError,
  type TurnUriScheme,
  turnUriPort,
} from './turn-uri.ts';
export { DENIED_PEER_IP_RANGES, type DeniedPeerRange } from './denied-peer-ips.ts';
export {
  renderTurnserverConf,
  TurnserverConfError,
  type TurnserverSettings,
} from './render-turnserver-conf.ts';

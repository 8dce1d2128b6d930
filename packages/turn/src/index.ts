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
export {
  checkTurnRelay,
  type TurnRelayCheck,
  type TurnRelayCheckOptions,
  type TurnRelayStep,
} from './check-turn-relay.ts';
export {
  decodeErrorCode,
  decodeXorAddress,
  encodeErrorCode,
  encodeXorAddress,
  StunAttr,
  type StunClass,
  StunDecodeError,
  StunMethod,
  type TransportAddress,
} from './stun-attributes.ts';
export {
  checkFingerprint,
  checkMessageIntegrity,
  decodeStunMessage,
  encodeStunMessage,
  longTermKey,
  type StunAttribute,
  type StunMessage,
} from './stun-message.ts';
export type { StunProtocol } from './stun-transport.ts';
export {
  type PeerAddress,
  type TurnAllocation,
  TurnClient,
  type TurnClientOptions,
  type TurnDataListener,
} from './turn-client.ts';
export { STUN_ERROR_REASONS, TurnError, type TurnErrorKind } from './turn-error.ts';

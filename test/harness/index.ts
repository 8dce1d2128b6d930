export {
  type Coturn,
  type CoturnLayout,
  type CoturnOptions,
  startCoturn,
  stunAnswers,
} from './coturn.ts';
export {
  type Livekit,
  livekitConfig,
  type LivekitOptions,
  type LivekitPorts,
  startLivekit,
  startLivekitFrom,
} from './livekit.ts';
export { type CoturnLoopback, type LivekitLoopback, onLoopback } from './loopback.ts';
export { type NodeService, type NodeServiceOptions, startNodeService } from './node-service.ts';
export { freeDualPort, freePort, freeUdpRange } from './ports.ts';
export { type Redis, type RedisOptions, startRedis } from './redis.ts';
export {
  httpReady,
  type RunningProcess,
  startProcess,
  type StartOptions,
  tcpOpen,
} from './process.ts';
export { type OptionDefault, type ParsedOption, scriptOptions } from './script-options.ts';
export {
  type RegisteredUser,
  requireSynapse,
  startSynapse,
  type Synapse,
  type SynapseOptions,
  type SynapsePorts,
  synapsePython,
  type SynapseTurnOptions,
} from './synapse.ts';
export {
  type CertificateNames,
  createSelfSignedCertificate,
  createTestCertificates,
  type TestCertificates,
} from './test-ca.ts';
export { repoRoot, requireTool } from './tools.ts';

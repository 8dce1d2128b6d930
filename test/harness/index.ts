export { freeDualPort, freePort, freeUdpRange } from './ports.ts';
export {
  httpReady,
  type RunningProcess,
  startProcess,
  type StartOptions,
  tcpOpen,
} from './process.ts';
export {
  type RegisteredUser,
  requireSynapse,
  startSynapse,
  type Synapse,
  type SynapseOptions,
  synapsePython,
  type SynapseTurnOptions,
} from './synapse.ts';
export { repoRoot, requireTool } from './tools.ts';

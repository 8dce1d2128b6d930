export { freeDualPort, freePort, freeUdpRange } from './ports.ts';
export {
  httpReady,
  type RunningProcess,
  startProcess,
  type StartOptions,
  tcpOpen,
} from './process.ts';
export { repoRoot, requireTool } from './tools.ts';

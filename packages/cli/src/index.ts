export { CliError, EXIT, UsageError } from './cli-error.ts';
export { type CliIo, processIo } from './io.ts';
export { runCli } from './main.ts';
export { COMMANDS, type Command } from './commands/index.ts';
export { parseEnvFile } from './deployment/env-file.ts';
export {
  type DeploymentSettings,
  deriveUrls,
  type Federation,
  PORTS,
  type ProxyMode,
  type Registration,
} from './deployment/deployment-settings.ts';
export { parsePublicAddress } from './deployment/public-address.ts';
export { parseServerName } from './deployment/server-name.ts';
export { SECRET_KEYS, type SecretKey } from './deployment/secrets.ts';
export { checkDeployment, type Finding } from './check/check-deployment.ts';
export { readJoinResponse, signalUrl, webSocketJoin } from './doctor/signal-join.ts';
export type { IceServer, SignalJoin } from './doctor/doctor-context.ts';

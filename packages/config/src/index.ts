export { ConfigError, type ConfigIssue, ConfigValueError } from './config-error.ts';
export { EnvVar, invalid, type Parser } from './env-var.ts';
export {
  type ConfigOf,
  type Env,
  type LoadOptions,
  loadConfig,
  type Schema,
} from './load-config.ts';
export {
  type BindAddress,
  bind,
  boolean,
  integer,
  json,
  list,
  oneOf,
  parseBind,
  string,
} from './parsers.ts';
export { insecureHttpIssue, isLoopbackHost, parseUrl, url, type UrlOptions } from './url.ts';

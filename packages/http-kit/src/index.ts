export {
  type LoggerSettings,
  loggerOptions,
  REDACT_PATHS,
  REDACTED,
  redactUrl,
} from './logger-options.ts';
export {
  type InFlightLimit,
  limitInFlight,
  OVERLOADED,
  PRESSURE_SAMPLE_MS,
  refuseOverloaded,
  sheddingOptions,
} from './load-shedding.ts';
export { MatrixError, type MatrixErrorBody } from './matrix-error.ts';
export {
  installMatrixErrorHandlers,
  matrixClientErrorHandler,
  matrixFrameworkErrors,
  sendMatrixError,
  toMatrixError,
} from './matrix-error-handlers.ts';
export {
  httpMetrics,
  metricsPlugin,
  type MetricsOptions,
  type ObserveRequest,
} from './metrics-plugin.ts';
export { type ListenAddress, serve, SHUTDOWN_GRACE_MS } from './serve.ts';

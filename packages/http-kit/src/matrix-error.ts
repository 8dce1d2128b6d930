/**
 * A Matrix-style error: `{"errcode":"M_…","error":"…"}` with an HTTP status. Services throw it
 * from routes and hooks; {@link installMatrixErrorHandlers} turns it into the response.
 *
 * The `message` is sent to the client as is, even for 5xx statuses, so it must be written for
 * clients (never an upstream message, a stack or a URL with credentials). Put details for
 * operators in `cause`, which is logged but never sent.
 */
export class MatrixError extends Error {
  /** HTTP status code, e.g. 401. */
  public readonly statusCode: number;
  /** Matrix error code, e.g. `M_UNKNOWN_TOKEN`. */
  public readonly errcode: string;
  /** Extra response headers, e.g. `Allow` for 405 or `Retry-After` for 429. */
  public readonly headers: Readonly<Record<string, string>>;
  /** Extra top-level body fields, e.g. `retry_after_ms` for `M_LIMIT_EXCEEDED`. */
  public readonly extra: Readonly<Record<string, unknown>>;

  public constructor(
    statusCode: number,
    errcode: string,
    message: string,
    options: {
      headers?: Record<string, string>;
      extra?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MatrixError';
    this.statusCode = statusCode;
    this.errcode = errcode;
    this.headers = Object.freeze({ ...options.headers });
    this.extra = Object.freeze({ ...options.extra });
  }

  /** The JSON body sent to the client. */
  public toJSON(): MatrixErrorBody {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }
}

/** Wire shape of a Matrix error response. */
export interface MatrixErrorBody {
  readonly errcode: string;
  readonly error: string;
  readonly [extra: string]: unknown;
}

import { describe, expect, it } from 'vitest';
import { MatrixError } from './matrix-error.ts';
import { toMatrixError } from './matrix-error-handlers.ts';

function fastifyError(props: Record<string, unknown>): Error {
  return Object.assign(new Error('internal detail /etc/secret'), props);
}

describe('toMatrixError', () => {
  it('should keep a MatrixError as is', () => {
    const e = new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    expect(toMatrixError(e)).toBe(e);
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'M_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'M_NOT_JSON'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'M_NOT_JSON'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'M_NOT_JSON'],
    ['FST_ERR_BAD_URL', 400, 'M_UNRECOGNIZED'],
  ])('should map %s to %i %s', (code, status, errcode) => {
    const m = toMatrixError(fastifyError({ code, statusCode: 400 }));
    expect([m.statusCode, m.errcode]).toEqual([status, errcode]);
    expect(m.message).not.toContain('/etc/secret');
  });

  it('should map schema failures by where they happened', () => {
    const body = toMatrixError(
      fastifyError({ validation: [], validationContext: 'body', message: "body must have 'room'" }),
    );
    expect([body.statusCode, body.errcode, body.message]).toEqual([
      400,
      'M_BAD_JSON',
      "body must have 'room'",
    ]);
    const query = toMatrixError(fastifyError({ validation: [], validationContext: 'querystring' }));
    expect(query.errcode).toBe('M_INVALID_PARAM');
  });

  it('should keep other 4xx statuses with a generic message', () => {
    const m = toMatrixError(fastifyError({ statusCode: 431 }));
    expect(m.toJSON()).toEqual({ errcode: 'M_UNKNOWN', error: 'Request Header Fields Too Large' });
  });

  it('should hide internals behind 500 M_UNKNOWN', () => {
    for (const err of [
      new TypeError('x is undefined'),
      'a string',
      fastifyError({ statusCode: 503 }),
    ]) {
      expect(toMatrixError(err).toJSON()).toEqual({
        errcode: 'M_UNKNOWN',
        error: 'Internal server error',
      });
    }
  });
});

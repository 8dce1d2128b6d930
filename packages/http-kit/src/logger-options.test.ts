import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, REDACTED, redactUrl } from './logger-options.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('redactUrl', () => {
  it('should hide access_token, token and jwt query values and keep the rest', () => {
    expect(redactUrl('/_matrix/client/v1/rtc/transports?access_token=syt_abc&x=1')).toBe(
      `/_matrix/client/v1/rtc/transports?access_token=${REDACTED}&x=1`,
    );
    expect(redactUrl('/sfu/get?a=1&JWT=eyJ.x.y#f')).toBe(`/sfu/get?a=1&JWT=${REDACTED}#f`);
    expect(redactUrl('/healthz')).toBe('/healthz');
  });
});

describe('loggerOptions', () => {
  it('should redact credentials at the top level and one level down', () => {
    const out = capture();
    const log = pino(loggerOptions({ name: 'svc' }), out.stream);
    log.info(
      {
        req: { headers: { authorization: 'Bearer syt_secret', accept: 'application/json' } },
        body: { openid_token: { access_token: 'oid' }, room: '!r:example.org' },
        config: { apiSecret: 'lk-secret', turn_secret: 'ts' },
        jwt: 'eyJhbGciOi.payload.sig',
      },
      'hello',
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ['syt_secret', 'oid', 'lk-secret', '"ts"', 'eyJhbGciOi']) {
      expect(text).not.toContain(secret);
    }
    const [line] = out.lines();
    expect(line).toMatchObject({
      name: 'svc',
      msg: 'hello',
      req: { headers: { authorization: REDACTED, accept: 'application/json' } },
      body: { openid_token: REDACTED, room: '!r:example.org' },
    });
  });

  it('should default to level info', () => {
    expect(loggerOptions().level).toBe('info');
    expect(loggerOptions({ level: 'debug' }).level).toBe('debug');
  });
});

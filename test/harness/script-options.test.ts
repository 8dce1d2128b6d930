import { describe, expect, it } from 'vitest';
import { scriptOptions } from './script-options.ts';

const DEFAULTS = {
  service: 'livekit-jwt',
  concurrency: 64,
  'max-in-flight': undefined,
  'serve-userinfo': false,
} as const;

describe('scriptOptions', () => {
  it('should give the defaults, typed as the defaults are, when no option is passed', () => {
    expect(scriptOptions(DEFAULTS, [])).toEqual({
      service: 'livekit-jwt',
      concurrency: 64,
      'max-in-flight': undefined,
      'serve-userinfo': false,
    });
  });

  it('should parse numbers as numbers, keep strings and read flags', () => {
    const opts = scriptOptions(DEFAULTS, [
      '--service',
      'well-known',
      '--concurrency',
      '8',
      '--max-in-flight',
      '0',
      '--serve-userinfo',
    ]);
    expect(opts).toEqual({
      service: 'well-known',
      concurrency: 8,
      'max-in-flight': 0,
      'serve-userinfo': true,
    });
  });

  it('should keep a string option that looks like a number a string', () => {
    expect(scriptOptions({ flags: '--x' }, ['--flags', '12']).flags).toBe('12');
  });

  it.each(['ten', '', '1e999'])('should refuse %j for a number option', (value) => {
    expect(() => scriptOptions(DEFAULTS, ['--concurrency', value])).toThrow(
      `--concurrency wants a number, got "${value}"`,
    );
  });

  it('should refuse an option it does not know', () => {
    expect(() => scriptOptions(DEFAULTS, ['--concurency', '8'])).toThrow(/--concurency/);
  });
});

import { describe, expect, it } from 'vitest';

import { formatEnvFile, parseEnvFile } from './env-file.ts';

describe('parseEnvFile', () => {
  it('should read values, quotes, export prefixes and inline comments', () => {
    const text = [
      '# comment',
      'A=1',
      'export B="two words"',
      "C='x # not a comment'",
      'D=value # comment',
      'E=',
      'not a line',
      'A=2',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      A: '2',
      B: 'two words',
      C: 'x # not a comment',
      D: 'value',
      E: '',
    });
  });

  it('should read back what formatEnvFile writes', () => {
    const text = formatEnvFile(['header'], [{ comment: ['section'], entries: [['K', 'v-1_x']] }]);
    expect(text).toBe('# header\n\n# section\nK=v-1_x\n');
    expect(parseEnvFile(text)).toEqual({ K: 'v-1_x' });
  });
});

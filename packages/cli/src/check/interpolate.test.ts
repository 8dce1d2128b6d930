import { describe, expect, it } from 'vitest';

import { interpolate } from './interpolate.ts';

describe('interpolate', () => {
  const env = { A: 'alpha', EMPTY: '' };

  it('should substitute braced and bare variables as compose does', () => {
    expect(interpolate('${A}/$A/${MISSING}', env)).toBe('alpha/alpha/');
  });

  it('should apply :- to unset and empty values but - to unset values only', () => {
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${MISSING-d}', env)).toBe('d  d');
  });

  it('should read $$ as a literal dollar', () => {
    expect(interpolate('$${1}/', env)).toBe('${1}/');
  });
});

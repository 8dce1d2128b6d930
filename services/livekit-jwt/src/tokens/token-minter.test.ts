import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { JOIN_TOKEN_TTL_SECONDS, TokenMinter } from './token-minter.ts';

const credentials = { key: 'APIkey123', secret: 'a-secret-that-is-long-enough-1234567890' };
const secret = new TextEncoder().encode(credentials.secret);
const fixedNow = () => 1_800_000_000_500;

describe('TokenMinter', () => {
  it('should sign a HS256 join token verifiable with the secret, issued by the key', async () => {
    const minter = new TokenMinter(credentials, fixedNow);
    const jwt = await minter.joinToken({
      identity: 'J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU',
      room: 'O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc',
      canPublish: true,
      canUpdateOwnMetadata: false,
    });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, secret, {
      algorithms: ['HS256'],
      issuer: credentials.key,
      currentDate: new Date(fixedNow()),
    });
    expect(payload).toEqual({
      iss: credentials.key,
      sub: 'J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU',
      iat: 1_800_000_000,
      nbf: 1_800_000_000,
      exp: 1_800_000_000 + 3600,
      video: {
        roomJoin: true,
        room: 'O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc',
        canPublish: true,
        canSubscribe: true,
      },
    });
    expect(JOIN_TOKEN_TTL_SECONDS).toBe(3600);
  });

  it('should deny publishing and never grant roomCreate to restricted users', async () => {
    const minter = new TokenMinter(credentials, fixedNow);
    const jwt = await minter.joinToken({
      identity: 'id',
      room: 'room',
      canPublish: false,
      canUpdateOwnMetadata: false,
    });
    const { payload } = await jwtVerify(jwt, secret, { currentDate: new Date(fixedNow()) });
    expect(payload.video).toEqual({
      roomJoin: true,
      room: 'room',
      canPublish: false,
      canSubscribe: true,
    });
  });

  it('should add canUpdateOwnMetadata only when asked to', async () => {
    const minter = new TokenMinter(credentials, fixedNow);
    const jwt = await minter.joinToken({
      identity: 'id',
      room: 'room',
      canPublish: true,
      canUpdateOwnMetadata: true,
    });
    const { payload } = await jwtVerify(jwt, secret, { currentDate: new Date(fixedNow()) });
    expect(payload.video).toMatchObject({ canUpdateOwnMetadata: true });
    expect(payload.video).not.toHaveProperty('roomCreate');
  });

  it('should not verify with another secret', async () => {
    const jwt = await new TokenMinter(credentials).joinToken({
      identity: 'id',
      room: 'room',
      canPublish: false,
      canUpdateOwnMetadata: false,
    });
    await expect(jwtVerify(jwt, new TextEncoder().encode('other'))).rejects.toThrow();
  });

  it('should mint a service token with only the roomCreate grant', async () => {
    const minter = new TokenMinter(credentials, fixedNow);
    const jwt = await minter.roomCreateToken(600);
    const { payload } = await jwtVerify(jwt, secret, { currentDate: new Date(fixedNow()) });
    expect(payload.video).toEqual({ roomCreate: true });
    expect(payload.exp! - payload.nbf!).toBe(600);
    expect(payload.sub).toBeUndefined();
  });
});

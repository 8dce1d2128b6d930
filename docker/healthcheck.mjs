// Container healthcheck for the rtc-sidecars images: GET /healthz on the service's own listen
// address, exit 0 on 200 and 1 otherwise. Plain Node, no curl/wget needed in the image.
//
// The port comes from the bind variable the service itself reads (WELL_KNOWN_BIND or
// LIVEKIT_JWT_BIND, or LIVEKIT_JWT_PORT), so the check follows the configuration. A wildcard or
// empty host (":8080", "0.0.0.0:8080", "[::]:8080") is probed on loopback: the upstream
// lk-jwt-service check turned ":8080" into "localhost::8080" and was never healthy.
/* eslint-disable @typescript-eslint/explicit-function-return-type -- plain JS, typed by JSDoc */
import http from 'node:http';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const DEFAULT_PORT = 8080;

/** @param {NodeJS.ProcessEnv} env */
export function healthUrl(env) {
  const bind = env.HEALTHCHECK_BIND ?? env.WELL_KNOWN_BIND ?? env.LIVEKIT_JWT_BIND;
  let host = '127.0.0.1';
  let port = env.LIVEKIT_JWT_PORT !== undefined ? Number(env.LIVEKIT_JWT_PORT) : DEFAULT_PORT;
  if (bind !== undefined && bind !== '') {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(bind);
    if (m !== null) {
      const h = m[1] ?? m[2] ?? '';
      port = Number(m[3]);
      if (h !== '' && h !== '0.0.0.0' && h !== '::') host = h.includes(':') ? `[${h}]` : h;
    }
  }
  return `http://${host}:${port}/healthz`;
}

/** @param {string} url @returns {Promise<number>} the exit code */
export function probe(url, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 0 : 1);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(1));
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await probe(healthUrl(process.env));
}

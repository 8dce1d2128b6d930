import { asText, livekitSetting, serviceEnv, serviceWithEnv } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

// Rules of scale mode (compose.scale.yaml): one Redis shared by LiveKit and livekit-jwt.

/**
 * livekit-jwt keeps delayed-leave jobs in memory unless LIVEKIT_REDIS_URL is set: with several
 * replicas, a webhook reaching the wrong one would be dropped and a leave never sent.
 */
export function replicasRule(d: Deployment): Finding[] {
  const jwt = serviceWithEnv(d, 'LIVEKIT_SECRET');
  if (jwt === undefined || jwt[1].replicas <= 1 || jwt[1].environment.LIVEKIT_REDIS_URL) return [];
  return [
    {
      rule: 'replicas-without-redis',
      file: jwt[1].origins.deploy ?? 'compose.yaml',
      key: `services.${jwt[0]}.deploy.replicas`,
      message: `is ${jwt[1].replicas} without LIVEKIT_REDIS_URL: each replica would keep its own delayed-leave jobs; use compose.scale.yaml (init --scale) or one replica`,
    },
  ];
}

/** Host and password of a `host:port` address or a `redis://` URL; `undefined` if unparseable. */
function redisTarget(address: string): { host: string; password?: string } | undefined {
  if (/^rediss?:\/\//.test(address)) {
    try {
      const url = new URL(address);
      const password = decodeURIComponent(url.password);
      return { host: url.hostname, ...(password === '' ? {} : { password }) };
    } catch {
      return undefined;
    }
  }
  const host = /^(.*):\d+$/.exec(address)?.[1] ?? address;
  return { host: host.replace(/^\[|\]$/g, '') };
}

/** A bare name (no dot, not an address) can only be a compose service on the same network. */
const isServiceName = (host: string): boolean =>
  /^[a-z0-9][a-z0-9_-]*$/i.test(host) && host !== 'localhost' && !/^\d+$/.test(host);

/**
 * LiveKit's `redis:` section and livekit-jwt's LIVEKIT_REDIS_URL must reach a Redis that runs:
 * a compose service by that name (LiveKit exits at start otherwise, livekit-jwt exits 1), with
 * the password that `.env`'s REDIS_PASSWORD gives it.
 */
export function redisRule(d: Deployment): Finding[] {
  const findings: Finding[] = [];
  const expected = d.env.REDIS_PASSWORD;
  const lkAddress = livekitSetting(d, 'redis.address');
  const url = serviceEnv(d, 'LIVEKIT_REDIS_URL');
  const users: { file: string; key: string; address: string; password?: string }[] = [];
  if (lkAddress !== undefined) {
    const password = livekitSetting(d, 'redis.password');
    users.push({
      file: 'livekit.yaml',
      key: 'redis.address',
      address: asText(lkAddress),
      ...(password === undefined ? {} : { password: asText(password) }),
    });
  }
  if (url !== undefined && url.value !== '') {
    users.push({ file: url.file, key: url.key, address: url.value });
  }
  for (const user of users) {
    const target = redisTarget(user.address);
    if (target === undefined) {
      findings.push({ ...user, rule: 'redis-unreachable', message: 'is not a Redis address' });
      continue;
    }
    if (d.services !== undefined && isServiceName(target.host) && !(target.host in d.services)) {
      findings.push({
        file: user.file,
        key: user.key,
        rule: 'redis-unreachable',
        message: `names "${target.host}", which is no compose service: add compose.scale.yaml to COMPOSE_FILE in .env (init --scale)`,
      });
    }
    const password = user.password ?? target.password;
    if (expected !== undefined && expected !== '' && password !== expected) {
      const key = user.file === 'livekit.yaml' ? 'redis.password' : user.key;
      findings.push({
        file: user.file,
        key,
        rule: 'secret-mismatch',
        message: 'differs from REDIS_PASSWORD in .env (re-run `rtc-sidecars init --scale`)',
      });
    }
  }
  return findings;
}

import type { Parsed } from './cli-harness.ts';

// A model of how Traefik routes a public request by a compose file's labels: the routers'
// rules (Host, Path, PathPrefix, &&, || and parentheses), their priorities, and the
// strip-prefix middlewares they apply. Enough to ask which service and path a request reaches.

/** Every route livekit-jwt serves; only the first four are for clients. */
export const LIVEKIT_JWT_PATHS = [
  '/get_token',
  '/sfu/get',
  '/delegate_delayed_leave',
  '/healthz',
  '/metrics',
  '/sfu_webhook',
];
/** What clients ask the well-known service for. */
export const WELL_KNOWN_PUBLIC = [
  '/.well-known/matrix/client',
  '/.well-known/matrix/server',
  '/.well-known/matrix/support',
  '/_matrix/client/unstable/org.matrix.msc4143/rtc/transports',
  '/_matrix/client/v1/rtc/transports',
];
/** Every route the well-known service serves. */
export const WELL_KNOWN_PATHS = [...WELL_KNOWN_PUBLIC, '/healthz', '/metrics'];

/** Evaluates `true`/`false` joined by `&&`, `||` and parentheses (`&&` binds tighter). */
function evaluate(expr: string): boolean {
  const tokens = expr.match(/true|false|&&|\|\||\(|\)/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`unsupported rule: ${expr}`);
  let i = 0;
  const atom = (): boolean => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      i++;
      return v;
    }
    return t === 'true';
  };
  const and = (): boolean => {
    let v = atom();
    while (tokens[i] === '&&') {
      i++;
      v = atom() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (tokens[i] === '||') {
      i++;
      v = and() || v;
    }
    return v;
  };
  return or();
}

/** One router of the labels, with the service that declared it. */
export interface Router {
  readonly name: string;
  readonly service: string;
  readonly rule: string;
  readonly priority: number;
  /** Prefixes its strip-prefix middlewares remove, in order. */
  readonly strip: readonly string[];
}

/** Every HTTP router the labels of `compose` declare. */
export function routersOf(compose: Parsed): Router[] {
  const routers: Router[] = [];
  const all: Record<string, string> = {};
  for (const service of Object.values(compose.services as Record<string, Parsed>)) {
    Object.assign(all, service.labels ?? {});
  }
  for (const [service, spec] of Object.entries(compose.services as Record<string, Parsed>)) {
    const labels = (spec.labels ?? {}) as Record<string, string>;
    for (const [key, rule] of Object.entries(labels)) {
      const m = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(key);
      if (m === null) continue;
      const name = m[1]!;
      const middlewares = (labels[`traefik.http.routers.${name}.middlewares`] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      routers.push({
        name,
        service,
        rule,
        priority: Number(labels[`traefik.http.routers.${name}.priority`] ?? rule.length),
        strip: middlewares.flatMap((mw) => {
          const prefixes = all[`traefik.http.middlewares.${mw}.stripprefix.prefixes`];
          return prefixes === undefined ? [] : prefixes.split(',');
        }),
      });
    }
  }
  return routers;
}

/** Which router Traefik picks for a request: the matching one with the highest priority. */
export function pickRouter(compose: Parsed, host: string, path: string): Router | undefined {
  const matches = (rule: string): boolean =>
    evaluate(
      rule
        .replace(/Host\(`([^`]*)`\)/g, (_, h: string) => String(h === host))
        .replace(/PathPrefix\(`([^`]*)`\)/g, (_, p: string) => String(path.startsWith(p)))
        .replace(/Path\(`([^`]*)`\)/g, (_, p: string) => String(path === p)),
    );
  return routersOf(compose)
    .filter((r) => matches(r.rule))
    .sort((a, b) => b.priority - a.priority)[0];
}

/** The compose service and the path (after strip-prefix) a public request reaches, if any. */
export function reaches(
  compose: Parsed,
  host: string,
  path: string,
): { service: string; path: string } | undefined {
  const router = pickRouter(compose, host, path);
  if (router === undefined) return undefined;
  let upstream = path;
  for (const prefix of router.strip) {
    if (upstream.startsWith(prefix)) upstream = upstream.slice(prefix.length) || '/';
  }
  return { service: router.service, path: upstream };
}

/**
 * The paths of `service` reachable from the internet, out of `servicePaths`: every public path
 * a client could try (the service path itself and under each prefix a router of the labels
 * strips) is routed, and the upstream paths that land on `service` are collected.
 */
export function publicPathsOf(
  compose: Parsed,
  host: string,
  service: string,
  servicePaths: readonly string[],
): string[] {
  const prefixes = new Set(['', ...routersOf(compose).flatMap((r) => r.strip)]);
  const reached = new Set<string>();
  for (const p of servicePaths) {
    for (const prefix of prefixes) {
      const hit = reaches(compose, host, `${prefix}${p}`);
      if (hit?.service === service && servicePaths.includes(hit.path)) reached.add(hit.path);
    }
  }
  return [...reached].sort();
}

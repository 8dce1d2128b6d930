import { parseTurnUri, TurnUriError } from '@rtc-sidecars/turn';

import { asText, homeserverSetting, serviceEnv } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

function parseArray(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `turn_uris` must be a list (a TOML array, or a JSON array in the environment); the seed's
 * comma-separated string and its backslash-escaped YAML both leave the homeserver without TURN.
 */
export function turnUrisRule(d: Deployment): Finding[] {
  const found = homeserverSetting(d, 'turn_uris');
  if (found === undefined) return [];
  const where = { file: found.file, key: found.key };
  let entries: unknown[] | undefined;
  if (Array.isArray(found.value)) entries = found.value;
  else if (typeof found.value === 'string') entries = parseArray(found.value.trim());
  if (entries === undefined) {
    return [
      {
        rule: 'turn-uris-not-array',
        ...where,
        message:
          'must be an array such as ["turn:host:3478?transport=udp", "turn:host:3478?transport=tcp"], not a string',
      },
    ];
  }
  const findings: Finding[] = [];
  for (const entry of entries) {
    try {
      if (typeof entry !== 'string') throw new TurnUriError(JSON.stringify(entry), 'not a string');
      parseTurnUri(entry);
    } catch (error) {
      findings.push({ rule: 'turn-uris-not-array', ...where, message: (error as Error).message });
    }
  }
  return findings;
}

/**
 * `allow_federation = false` removes the federation router and with it the OpenID userinfo
 * route livekit-jwt verifies tokens against: calls fail with OPEN_ID_ERROR.
 */
export function federationRule(d: Deployment): Finding[] {
  const found = homeserverSetting(d, 'allow_federation');
  if (found === undefined) return [];
  if (isFalse(found.value)) {
    return [
      {
        rule: 'federation-disabled',
        file: found.file,
        key: found.key,
        message:
          'federation disabled outright breaks calls (no OpenID userinfo route); use allow_federation = true with forbidden_remote_server_names = [".*"]',
      },
    ];
  }
  return [];
}

function fociUrls(value: unknown): string[] | undefined {
  let list: unknown = value;
  if (typeof value === 'string') {
    // The env form is a TOML inline array; the URLs are what matters here.
    return [...value.matchAll(/livekit_service_url\s*=\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
  }
  if (!Array.isArray(list)) return undefined;
  list = list.filter((f): f is Record<string, unknown> => f !== null && typeof f === 'object');
  return (list as Record<string, unknown>[]).map((f) => asText(f.livekit_service_url));
}

const norm = (u: string): string => u.trim().replace(/\/+$/, '');

/** The homeserver's MSC4143 foci and the well-known `rtc_foci` must name the same service. */
export function fociRule(d: Deployment): Finding[] {
  const wk = serviceEnv(d, 'WELL_KNOWN_LIVEKIT_SERVICE_URLS');
  const hs = homeserverSetting(d, 'matrix_rtc.foci');
  if (wk === undefined && hs === undefined) return [];
  if (hs === undefined) {
    if (d.unreadable.has('continuwuity.toml')) return [];
    return [
      {
        rule: 'foci-mismatch',
        file: 'continuwuity.toml',
        key: 'global.matrix_rtc.foci',
        message: 'not set: the homeserver answers rtc/transports with no LiveKit focus',
      },
    ];
  }
  const hsUrls = (fociUrls(hs.value) ?? []).map(norm).sort();
  if (wk === undefined) return [];
  const wkUrls = wk.value
    .split(',')
    .map(norm)
    .filter((u) => u !== '')
    .sort();
  if (hsUrls.join(' ') !== wkUrls.join(' ')) {
    return [
      {
        rule: 'foci-mismatch',
        file: wk.file,
        key: wk.key,
        message: `well-known foci (${wkUrls.join(', ')}) differ from ${hs.file} ${hs.key} (${hsUrls.join(', ')})`,
      },
    ];
  }
  return [];
}

const isFalse = (v: unknown): boolean => v === false || asText(v).trim().toLowerCase() === 'false';

/**
 * Presence switched off: clients cannot set a status message or see who is online (the first
 * thing users notice). Local presence is the homeserver's own users; incoming, remote ones.
 */
export function presenceRule(d: Deployment): Finding[] {
  const findings: Finding[] = [];
  for (const [key, what] of [
    ['allow_local_presence', "this server's users cannot set a status or see who is online"],
    ['allow_incoming_presence', "remote users' presence is dropped"],
  ] as const) {
    const found = homeserverSetting(d, key);
    if (found !== undefined && isFalse(found.value)) {
      findings.push({
        rule: 'presence-disabled',
        file: found.file,
        key: found.key,
        message: `presence is switched off: ${what}; set ${key} = true`,
      });
    }
  }
  return findings;
}

import { MIN_LIVEKIT_SECRET_LENGTH } from '../deployment/secrets.ts';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

import {
  asText,
  homeserverService,
  homeserverSetting,
  livekitSetting,
  type Located,
  mountedFile,
  serviceEnv,
} from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

/**
 * The secret in continuwuity's `turn_secret_file`, read from the deployment folder through the
 * homeserver service's bind mounts; `undefined` without the setting. A file that is not mounted
 * from the folder or cannot be read is a finding: continuwuity then falls back to `turn_secret`.
 */
function homeserverTurnSecret(d: Deployment, findings: Finding[]): Located<string> | undefined {
  const setting = homeserverSetting(d, 'turn_secret_file');
  const hs = homeserverService(d);
  if (setting === undefined || hs === undefined) return undefined;
  const path = mountedFile(d, hs[1], asText(setting.value));
  let text: string | undefined;
  try {
    text = path === undefined ? undefined : readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    findings.push({
      rule: 'secret-mismatch',
      file: setting.file,
      key: setting.key,
      message: `${asText(setting.value)} is not a readable file mounted from this folder: continuwuity falls back to turn_secret`,
    });
    return undefined;
  }
  const file = path === undefined ? setting.file : relative(d.dir, path);
  return { value: text.trim(), file, key: '-' };
}

/** coturn's secrets must include the homeserver's TURN secret and `.env`'s TURN_SECRET. */
export function turnSecretRule(d: Deployment): Finding[] {
  const coturn = d.turnserver?.get('static-auth-secret') ?? [];
  if (d.turnserver === undefined) return [];
  const findings: Finding[] = [];
  if (coturn.length === 0 || d.turnserver.get('use-auth-secret') === undefined) {
    findings.push({
      rule: 'secret-mismatch',
      file: 'turnserver.conf',
      key: 'static-auth-secret',
      message:
        'coturn has no use-auth-secret/static-auth-secret, so homeserver TURN credentials cannot work',
    });
    return findings;
  }
  // turn_secret_file wins over turn_secret in continuwuity.
  const hs = homeserverTurnSecret(d, findings) ?? homeserverSetting(d, 'turn_secret');
  if (hs === undefined) {
    // An unparseable continuwuity.toml is reported once, not again as each missing key.
    if (
      homeserverSetting(d, 'turn_secret_file') === undefined &&
      !d.unreadable.has('continuwuity.toml')
    ) {
      findings.push({
        rule: 'secret-mismatch',
        file: 'continuwuity.toml',
        key: 'global.turn_secret',
        message: 'the homeserver has no TURN secret, so it hands out no TURN credentials',
      });
    }
  } else if (!coturn.includes(asText(hs.value))) {
    findings.push({
      rule: 'secret-mismatch',
      file: hs.file,
      key: hs.key,
      message:
        'differs from turnserver.conf static-auth-secret: coturn will reject every credential',
    });
  }
  const fromEnv = d.env.TURN_SECRET;
  if (fromEnv !== undefined && fromEnv !== '' && !coturn.includes(fromEnv)) {
    findings.push({
      rule: 'secret-mismatch',
      file: 'turnserver.conf',
      key: 'static-auth-secret',
      message: 'differs from TURN_SECRET in .env (re-run `rtc-sidecars init` to re-derive it)',
    });
  }
  return findings;
}

/** livekit-jwt signs with a key/secret pair that must be one of LiveKit's `keys`. */
export function livekitKeyRule(d: Deployment): Finding[] {
  const keys = livekitSetting(d, 'keys');
  if (d.livekit === undefined) return [];
  if (keys === null || typeof keys !== 'object') {
    return [
      {
        rule: 'secret-mismatch',
        file: 'livekit.yaml',
        key: 'keys',
        message: 'no API keys configured',
      },
    ];
  }
  const table = keys as Record<string, unknown>;
  const findings: Finding[] = [];
  const key = serviceEnv(d, 'LIVEKIT_KEY');
  const secret = serviceEnv(d, 'LIVEKIT_SECRET');
  if (key !== undefined && secret !== undefined) {
    if (!(key.value in table)) {
      findings.push({
        rule: 'secret-mismatch',
        file: key.file,
        key: key.key,
        message: 'is not one of the keys in livekit.yaml: LiveKit will reject every token',
      });
    } else if (asText(table[key.value]) !== secret.value) {
      findings.push({
        rule: 'secret-mismatch',
        file: secret.file,
        key: secret.key,
        message: `differs from livekit.yaml keys.${key.value}: LiveKit will reject every token`,
      });
    }
  }
  for (const [variable, located] of [
    ['LIVEKIT_KEY', key],
    ['LIVEKIT_SECRET', secret],
  ] as const) {
    const fromEnv = d.env[variable];
    if (
      located !== undefined &&
      fromEnv !== undefined &&
      fromEnv !== '' &&
      fromEnv !== located.value
    ) {
      findings.push({
        rule: 'secret-mismatch',
        file: located.file,
        key: located.key,
        message: `differs from ${variable} in .env`,
      });
    }
  }
  return findings;
}

/** HS256 with a secret under 32 characters is weak, and LiveKit refuses short secrets. */
export function livekitSecretLengthRule(d: Deployment): Finding[] {
  const findings: Finding[] = [];
  const keys = livekitSetting(d, 'keys');
  if (keys !== null && typeof keys === 'object') {
    for (const [name, value] of Object.entries(keys as Record<string, unknown>)) {
      if (asText(value).length < MIN_LIVEKIT_SECRET_LENGTH) {
        findings.push({
          rule: 'livekit-secret-length',
          file: 'livekit.yaml',
          key: `keys.${name}`,
          message: `secret is shorter than ${MIN_LIVEKIT_SECRET_LENGTH} characters`,
        });
      }
    }
  }
  const secret = serviceEnv(d, 'LIVEKIT_SECRET');
  if (secret !== undefined && secret.value.length < MIN_LIVEKIT_SECRET_LENGTH) {
    findings.push({
      rule: 'livekit-secret-length',
      file: secret.file,
      key: secret.key,
      message: `shorter than ${MIN_LIVEKIT_SECRET_LENGTH} characters`,
    });
  }
  return findings;
}

import { randomBytes } from 'node:crypto';

/** What decides whether a deployment needs a secret: its resolved settings. */
export interface SecretNeeds {
  readonly registration: string;
  readonly scale: boolean;
}

/** One generated secret of `.env`. */
export interface SecretSpec {
  readonly key: string;
  /** A fresh value from node:crypto's CSPRNG, only [A-Za-z0-9_-] (no quoting anywhere). */
  readonly generate: () => string;
  /** Whether a deployment with these settings uses it. */
  readonly wanted: (s: SecretNeeds) => boolean;
}

/**
 * Every secret `init` generates, in `.env` order. Adding one is one entry here: `init` then
 * generates it when `wanted`, keeps it on every re-run, writes it to `.env` and hands it to the
 * renderers in `DeploymentSettings.secrets`.
 */
export const SECRETS = [
  {
    // coturn static-auth-secret: 32 bytes as 64 hex characters.
    key: 'TURN_SECRET',
    generate: () => randomBytes(32).toString('hex'),
    wanted: () => true,
  },
  {
    // LiveKit API key: an "API" prefix as `livekit-server generate-keys` uses, then 32 hex chars.
    key: 'LIVEKIT_KEY',
    generate: () => `API${randomBytes(16).toString('hex')}`,
    wanted: () => true,
  },
  {
    // LiveKit API secret: 48 bytes, 64 base64url characters.
    key: 'LIVEKIT_SECRET',
    generate: () => randomBytes(48).toString('base64url'),
    wanted: () => true,
  },
  {
    // Registration token: 24 bytes, 32 base64url characters.
    key: 'REGISTRATION_TOKEN',
    generate: () => randomBytes(24).toString('base64url'),
    wanted: (s) => s.registration === 'token',
  },
  {
    // Redis password (scale mode): 32 bytes as 64 hex characters, safe inside a redis:// URL too.
    key: 'REDIS_PASSWORD',
    generate: () => randomBytes(32).toString('hex'),
    wanted: (s) => s.scale,
  },
] as const satisfies readonly SecretSpec[];

/** The `.env` keys that hold generated secrets; `init` never replaces one that is set. */
export const SECRET_KEYS = SECRETS.map((s) => s.key);

/** One of {@link SECRET_KEYS}. */
export type SecretKey = (typeof SECRETS)[number]['key'];

/** Shortest LiveKit API secret LiveKit and `check` accept: HS256 needs 256 bits of key. */
export const MIN_LIVEKIT_SECRET_LENGTH = 32;

/** A fresh value for `key`. */
export function generateSecret(key: SecretKey): string {
  const spec = SECRETS.find((s) => s.key === key);
  if (spec === undefined) throw new Error(`unknown secret ${key}`);
  return spec.generate();
}

/** Secrets a deployment with these settings needs, in `.env` order. */
export function wantedSecrets(needs: SecretNeeds): SecretKey[] {
  return SECRETS.filter((s) => s.wanted(needs)).map((s) => s.key);
}

/** Result of {@link fillSecrets}: the secrets to use and which of them were newly generated. */
export interface FilledSecrets {
  readonly values: Readonly<Partial<Record<SecretKey, string>>>;
  readonly generated: readonly SecretKey[];
  readonly kept: readonly SecretKey[];
}

/**
 * Keeps every secret already present in `existing` and generates only the missing ones among
 * `wanted`. This is what makes re-running `init` safe: a running deployment's secrets stay.
 * A secret present but no longer wanted (registration switched off) is kept too, so switching
 * back brings the same value back.
 */
export function fillSecrets(
  wanted: readonly SecretKey[],
  existing: Readonly<Record<string, string>>,
): FilledSecrets {
  const values: Partial<Record<SecretKey, string>> = {};
  const generated: SecretKey[] = [];
  const kept: SecretKey[] = [];
  for (const key of SECRET_KEYS) {
    const current = existing[key];
    if (current !== undefined && current !== '') {
      values[key] = current;
      if (wanted.includes(key)) kept.push(key);
    } else if (wanted.includes(key)) {
      values[key] = generateSecret(key);
      generated.push(key);
    }
  }
  return { values, generated, kept };
}

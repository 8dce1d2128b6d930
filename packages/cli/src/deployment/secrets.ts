import { randomBytes } from 'node:crypto';

/** The `.env` keys that hold generated secrets; `init` never replaces one that is set. */
export const SECRET_KEYS = [
  'TURN_SECRET',
  'LIVEKIT_KEY',
  'LIVEKIT_SECRET',
  'REGISTRATION_TOKEN',
  'REDIS_PASSWORD',
] as const;

/** One of {@link SECRET_KEYS}. */
export type SecretKey = (typeof SECRET_KEYS)[number];

/** Shortest LiveKit API secret LiveKit and `check` accept: HS256 needs 256 bits of key. */
export const MIN_LIVEKIT_SECRET_LENGTH = 32;

// Every generator draws from node:crypto's CSPRNG and yields only [A-Za-z0-9_-], so values need
// no quoting in .env, YAML, TOML or coturn's config.
const GENERATORS: Readonly<Record<SecretKey, () => string>> = {
  // coturn static-auth-secret: 32 bytes as 64 hex characters.
  TURN_SECRET: () => randomBytes(32).toString('hex'),
  // LiveKit API key: an "API" prefix as `livekit-server generate-keys` uses, then 32 hex chars.
  LIVEKIT_KEY: () => `API${randomBytes(16).toString('hex')}`,
  // LiveKit API secret: 48 bytes, 64 base64url characters.
  LIVEKIT_SECRET: () => randomBytes(48).toString('base64url'),
  // Registration token: 24 bytes, 32 base64url characters.
  REGISTRATION_TOKEN: () => randomBytes(24).toString('base64url'),
  // Redis password (scale mode): 32 bytes as 64 hex characters, safe inside a redis:// URL too.
  REDIS_PASSWORD: () => randomBytes(32).toString('hex'),
};

/** A fresh value for `key`. */
export function generateSecret(key: SecretKey): string {
  return GENERATORS[key]();
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
 */
export function fillSecrets(
  wanted: readonly SecretKey[],
  existing: Readonly<Record<string, string>>,
): FilledSecrets {
  const values: Partial<Record<SecretKey, string>> = {};
  const generated: SecretKey[] = [];
  const kept: SecretKey[] = [];
  for (const key of wanted) {
    const current = existing[key];
    if (current !== undefined && current !== '') {
      values[key] = current;
      kept.push(key);
    } else {
      values[key] = generateSecret(key);
      generated.push(key);
    }
  }
  return { values, generated, kept };
}

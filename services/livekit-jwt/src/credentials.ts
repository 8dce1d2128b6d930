import type { ConfigIssue } from '@rtc-sidecars/config';

/** The raw variables that can hold the LiveKit API key and secret. */
export interface CredentialSources {
  readonly key: string | undefined;
  readonly secret: string | undefined;
  readonly keyFromFile: string | undefined;
  readonly secretFromFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** Upstream trims spaces, CR and LF (not tabs) from keys and secrets read from files. */
const trim = (s: string): string => s.replace(/^[ \r\n]+|[ \r\n]+$/g, '');

/**
 * Resolves the API key and secret with upstream's precedence: `LIVEKIT_KEY_FILE` (a LiveKit
 * `key: secret` file, exactly one colon) wins over everything; otherwise `*_FROM_FILE` wins over
 * the plain variable, field by field. Problems are appended to `issues`; secrets never appear in
 * them.
 */
export function resolveCredentials(
  sources: CredentialSources,
  readFile: (path: string) => string,
  issues: ConfigIssue[],
): { key: string; secret: string } | undefined {
  const before = issues.length;
  const read = (variable: string, path: string): string | undefined => {
    try {
      return trim(readFile(path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      issues.push({ variable, message: `cannot read file "${path}" (${code})` });
      return undefined;
    }
  };

  if (sources.keyFile !== undefined) {
    const content = read('LIVEKIT_KEY_FILE', sources.keyFile);
    if (content === undefined) return undefined;
    const parts = content.split(':');
    if (parts.length !== 2) {
      issues.push({
        variable: 'LIVEKIT_KEY_FILE',
        message: 'invalid key secret file format! (expected one "key: secret" line)',
      });
      return undefined;
    }
    return checkPresent(trim(parts[0] ?? ''), trim(parts[1] ?? ''), issues);
  }

  const key =
    sources.keyFromFile === undefined
      ? sources.key
      : read('LIVEKIT_KEY_FROM_FILE', sources.keyFromFile);
  const secret =
    sources.secretFromFile === undefined
      ? sources.secret
      : read('LIVEKIT_SECRET_FROM_FILE', sources.secretFromFile);
  if (issues.length > before) return undefined;
  return checkPresent(key ?? '', secret ?? '', issues);
}

function checkPresent(
  key: string,
  secret: string,
  issues: ConfigIssue[],
): { key: string; secret: string } | undefined {
  if (key === '') {
    issues.push({
      variable: 'LIVEKIT_KEY',
      message: 'must be set (LIVEKIT_KEY, LIVEKIT_KEY_FROM_FILE or LIVEKIT_KEY_FILE)',
    });
  }
  if (secret === '') {
    issues.push({
      variable: 'LIVEKIT_SECRET',
      message: 'must be set (LIVEKIT_SECRET, LIVEKIT_SECRET_FROM_FILE or LIVEKIT_KEY_FILE)',
    });
  }
  return key === '' || secret === '' ? undefined : { key, secret };
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Finds a real component installed by scripts/setup.sh: first in the git-ignored tools folder,
 * then in the Debian locations. Throws when missing: a test never skips for a missing component.
 */
export function requireTool(
  name: 'livekit-server' | 'turnserver' | 'nginx' | 'redis-server' | 'openssl' | 'wrk',
): string {
  const candidates = [
    join(repoRoot, '.tools', 'bin', name),
    `/usr/bin/${name}`,
    `/usr/sbin/${name}`,
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      `${name} is not installed; run scripts/setup.sh (looked in ${candidates.join(', ')})`,
    );
  }
  return found;
}

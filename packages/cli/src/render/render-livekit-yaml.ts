import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { interpolate } from '../check/interpolate.ts';

/**
 * LiveKit's `livekit.yaml`: the repository's `docker/livekit.template.yaml` with `${VAR}`
 * replaced by the values of the deployment's `.env`, so ports, address and keys are literally
 * the ones compose publishes and livekit-jwt signs with. Written 0600: it holds the API secret.
 *
 * In scale mode `docker/livekit.scale.template.yaml` (the `redis:` section of LiveKit's
 * multi-node mode) is appended: a separate file rather than a switch inside the template, so
 * the template stays plain `${VAR}` substitution and the default file has no Redis to wait for.
 */
export function renderLivekitYaml(
  repo: string,
  env: Readonly<Record<string, string>>,
  scale: boolean,
): string {
  const parts = ['docker/livekit.template.yaml'];
  if (scale) parts.push('docker/livekit.scale.template.yaml');
  return parts.map((part) => interpolate(readFileSync(join(repo, part), 'utf8'), env)).join('');
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { interpolate } from '../check/interpolate.ts';

/**
 * LiveKit's `livekit.yaml`: the repository's `docker/livekit.template.yaml` with `${VAR}`
 * replaced by the values of the deployment's `.env`, so ports, address and keys are literally
 * the ones compose publishes and livekit-jwt signs with. Written 0600: it holds the API secret.
 */
export function renderLivekitYaml(repo: string, env: Readonly<Record<string, string>>): string {
  const template = readFileSync(join(repo, 'docker/livekit.template.yaml'), 'utf8');
  return interpolate(template, env);
}

import { interpolate } from '../check/interpolate.ts';
import { readTemplate, type TemplateFile } from '../deployment/templates.ts';

/**
 * LiveKit's `livekit.yaml`: `docker/livekit.template.yaml` with `${VAR}` replaced by the values
 * of the deployment's `.env`, so ports, address and keys are literally the ones compose
 * publishes and livekit-jwt signs with. Written 0600: it holds the API secret.
 *
 * In scale mode `docker/livekit.scale.template.yaml` (the `redis:` section of LiveKit's
 * multi-node mode) is appended: a separate file rather than a switch inside the template, so
 * the template stays plain `${VAR}` substitution and the default file has no Redis to wait for.
 */
export function renderLivekitYaml(env: Readonly<Record<string, string>>, scale: boolean): string {
  const parts: TemplateFile[] = ['livekit.template.yaml'];
  if (scale) parts.push('livekit.scale.template.yaml');
  return parts.map((part) => interpolate(readTemplate(part), env)).join('');
}

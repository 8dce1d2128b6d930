import {
  continuwuitySecretFiles,
  renderContinuwuityToml,
} from '../render/render-continuwuity-toml.ts';
import { renderEnvFile } from '../render/render-env-file.ts';
import { renderLivekitYaml } from '../render/render-livekit-yaml.ts';
import { renderCoturnConf } from '../render/render-turnserver-conf.ts';
import { composeFiles, type DeploymentSettings } from './deployment-settings.ts';
import { parseEnvFile } from './env-file.ts';
import { type SettingValues } from './settings-table.ts';
import { readTemplate } from './templates.ts';
import { type DeploymentFile } from './write-deployment.ts';

/** Every file of a deployment folder and the data folders it needs. */
export interface RenderedDeployment {
  readonly files: readonly DeploymentFile[];
  readonly dataDirs: readonly string[];
}

/**
 * Renders a whole deployment folder from the resolved settings: `.env` first (the source of
 * truth), then every other file from it. Shared by `init` and `migrate`.
 */
export function renderDeployment(
  values: SettingValues,
  settings: DeploymentSettings,
  previous: Readonly<Record<string, string>>,
): RenderedDeployment {
  const envText = renderEnvFile(values, settings, previous);
  const files: DeploymentFile[] = [
    { name: '.env', content: envText, mode: 0o600 },
    ...composeFiles(settings.scale).map((name) => ({
      name,
      content: readTemplate(name === 'compose.yaml' ? 'compose.yaml' : 'compose.scale.yaml'),
      mode: 0o644,
    })),
    {
      name: 'livekit.yaml',
      content: renderLivekitYaml(parseEnvFile(envText), settings.scale),
      mode: 0o600,
    },
    { name: 'turnserver.conf', content: renderCoturnConf(settings), mode: 0o600 },
    { name: 'continuwuity.toml', content: renderContinuwuityToml(settings), mode: 0o600 },
    ...continuwuitySecretFiles(settings),
  ];
  const dataDirs = [
    'data/continuwuity',
    'data/traefik',
    'secrets',
    ...(settings.scale ? ['data/redis'] : []),
  ];
  return { files, dataDirs };
}

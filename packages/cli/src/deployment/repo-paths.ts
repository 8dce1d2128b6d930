import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CliError } from '../cli-error.ts';

/**
 * The repository checkout this command runs from. Both `src/deployment/` and
 * `dist/deployment/` sit four levels below it, so the answer is the same for the TypeScript
 * sources and the build. It is the Docker build context of the two rtc-sidecars images and
 * holds `docker/compose.yaml`, which `init` copies into the deployment folder.
 *
 * @throws {@link CliError} when the CLI was copied away from its checkout.
 */
export function repoRoot(): string {
  const root = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');
  if (!existsSync(`${root}/docker/compose.yaml`)) {
    throw new CliError(
      `cannot find docker/compose.yaml under ${root}; run rtc-sidecars from a checkout of the repository`,
    );
  }
  return root;
}

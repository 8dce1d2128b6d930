import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CliError } from '../cli-error.ts';

/**
 * The files of `docker/` that `init` copies or renders into a deployment folder. The installed
 * CLI carries them inside its single file (see scripts/bundle.ts), so it needs no checkout.
 */
export const TEMPLATE_FILES = [
  'compose.yaml',
  'compose.scale.yaml',
  'livekit.template.yaml',
  'livekit.scale.template.yaml',
] as const;

/** One of {@link TEMPLATE_FILES}. */
export type TemplateFile = (typeof TEMPLATE_FILES)[number];

/** What the bundler bakes into the installed CLI; absent when running from a checkout. */
interface Embedded {
  readonly version: string;
  readonly templates: Readonly<Record<string, string>>;
}

// Replaced by the bundler (esbuild `define`) with the CLI's version and every template's text.
declare const RTC_SIDECARS_EMBEDDED: Embedded | undefined;

function embedded(): Embedded | undefined {
  return typeof RTC_SIDECARS_EMBEDDED === 'undefined' ? undefined : RTC_SIDECARS_EMBEDDED;
}

/**
 * The repository checkout this command runs from, or `undefined` for the installed CLI. Both
 * `src/deployment/` and `dist/deployment/` sit four levels below the checkout.
 */
export function checkoutRoot(): string | undefined {
  if (embedded() !== undefined) return undefined;
  const root = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');
  return existsSync(`${root}/docker/compose.yaml`) ? root : undefined;
}

/**
 * The text of a template: the copy inside the installed CLI, else the checkout's `docker/` file.
 *
 * @throws {@link CliError} when neither exists (the sources were copied away from a checkout).
 */
export function readTemplate(name: TemplateFile): string {
  const inside = embedded()?.templates[name];
  if (inside !== undefined) return inside;
  const root = checkoutRoot();
  if (root === undefined) {
    throw new CliError(
      `cannot find docker/${name}: run rtc-sidecars from a checkout, or install the packed CLI (packages/cli/README.md)`,
    );
  }
  return readFileSync(`${root}/docker/${name}`, 'utf8');
}

/** The CLI's version: baked in when installed, else packages/cli/package.json. */
export function cliVersion(): string {
  const inside = embedded()?.version;
  if (inside !== undefined) return inside;
  const pkg = new URL('../../package.json', import.meta.url);
  const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : 'unknown';
}

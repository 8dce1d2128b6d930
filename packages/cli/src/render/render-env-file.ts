import { composeFiles, type DeploymentSettings } from '../deployment/deployment-settings.ts';
import { formatEnvFile, type EnvSection } from '../deployment/env-file.ts';
import { SECRET_KEYS } from '../deployment/secrets.ts';
import {
  envEntries,
  SETTINGS,
  type SettingSection,
  type SettingValues,
} from '../deployment/settings-table.ts';

const SECTION_COMMENTS: Readonly<Record<SettingSection, readonly string[]>> = {
  server: [
    'The Matrix server name is permanent: changing it means a new homeserver.',
    'ALLOW_PRIVATE_IP=on accepts a non-public EXTERNAL_IP (lab and test set-ups only).',
  ],
  proxy: [
    'Reverse proxy. "external": an existing Traefik (Runtipi) on TRAEFIK_NETWORK.',
    '"standalone": the bundled Traefik with Let\'s Encrypt (COMPOSE_PROFILES=standalone).',
    'Switching PROXY needs `init --force` (stop the stack first).',
    "TRUSTED_PROXY: whose X-Forwarded-For livekit-jwt believes: the proxy's container or",
    'service name on TRAEFIK_NETWORK (another Traefik: its name), plus addresses or CIDRs,',
    'comma-separated, to widen it.',
  ],
  scale: [
    'Scale mode: compose reads compose.scale.yaml too (Redis, LiveKit multi-node, several',
    'livekit-jwt replicas); see "Growing past one machine".',
  ],
  ports: [
    'Ports published on the host. HTTPS_PORT/HTTP_PORT are used by the standalone proxy only.',
  ],
  build: [
    'RTC_SIDECARS_SRC: a checkout to build the two rtc-sidecars images from (empty: pull the',
    'published images). RTC_UID/RTC_GID: the user the stock containers run as (owner of this',
    'folder, so they can read the 0600 config files).',
  ],
};

// Keys init computes from the settings; an operator's own additions to them are kept.
const DERIVED = ['COMPOSE_PROFILES', 'COMPOSE_FILE'] as const;

/** `standard` followed by the entries of the old comma/colon list that init did not put there. */
function withExtras(standard: readonly string[], old: string | undefined, sep: string): string {
  const known = new Set([...standard, 'compose.yaml', 'compose.scale.yaml', 'standalone']);
  const extras = (old ?? '').split(sep).filter((x) => x !== '' && !known.has(x));
  return [...standard, ...extras].join(sep);
}

/**
 * The deployment's `.env`: the single source of truth that compose.yaml interpolates and that
 * `init` re-reads on the next run. Every setting of settings-table.ts, the keys compose reads
 * (COMPOSE_PROFILES, COMPOSE_FILE), the secrets, and at the end every line the operator added
 * that init does not know, kept as written. Mode 0600 because it holds every secret.
 */
export function renderEnvFile(
  values: SettingValues,
  s: DeploymentSettings,
  previous: Readonly<Record<string, string>> = {},
): string {
  const sections: EnvSection[] = [];
  for (const [section, comment] of Object.entries(SECTION_COMMENTS)) {
    const entries = SETTINGS.filter((spec) => spec.section === section).flatMap((spec) =>
      envEntries(spec, values[spec.name] ?? ''),
    );
    if (section === 'proxy') {
      const profiles = withExtras(
        s.proxy === 'standalone' ? ['standalone'] : [],
        previous.COMPOSE_PROFILES,
        ',',
      );
      entries.push(['COMPOSE_PROFILES', profiles]);
    }
    if (section === 'scale') {
      const files = withExtras(s.scale ? composeFiles(true) : [], previous.COMPOSE_FILE, ':');
      // No COMPOSE_FILE at all means compose.yaml alone, as compose reads it.
      if (files !== '') {
        entries.push([
          'COMPOSE_FILE',
          files.startsWith('compose.yaml') ? files : `compose.yaml:${files}`,
        ]);
      }
    }
    sections.push({ comment, entries });
  }
  const secrets: [string, string][] = [];
  for (const key of SECRET_KEYS) {
    const value = s.secrets[key];
    if (value !== undefined) secrets.push([key, value]);
  }
  sections.push({
    comment: [
      'Secrets, generated from a CSPRNG. Re-running `rtc-sidecars init` keeps them;',
      '`init --regenerate-secrets` replaces them and keeps the old file as .env.bak-<time>.',
    ],
    entries: secrets,
  });
  const known = new Set<string>([
    ...SETTINGS.flatMap((spec) => spec.env),
    ...DERIVED,
    ...SECRET_KEYS,
  ]);
  const own = Object.entries(previous).filter(([key]) => !known.has(key));
  if (own.length > 0) {
    sections.push({ comment: ['Your own additions, kept as written by `init`.'], entries: own });
  }
  return formatEnvFile(
    [
      'rtc-sidecars deployment, written by `rtc-sidecars init`. Keep this file private (0600).',
      'This file is the source of truth: edit it, then run `rtc-sidecars init` in this folder to',
      're-render the other files (or give flags to init, which writes them here).',
    ],
    sections,
  );
}

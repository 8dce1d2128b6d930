import { type DeploymentSettings, deriveUrls, PORTS } from '../deployment/deployment-settings.ts';
import { type DeploymentFile } from '../deployment/write-deployment.ts';

const str = (v: string): string => JSON.stringify(v);
const arr = (vs: readonly string[]): string => `[${vs.map(str).join(', ')}]`;

/** Where compose mounts the deployment's `secrets/` folder in the continuwuity container. */
export const CONTINUWUITY_SECRETS_DIR = '/etc/continuwuity/secrets';

/**
 * The files continuwuity reads its secrets from (`turn_secret_file`, `registration_token_file`),
 * written to the deployment's `secrets/` folder (0600) from `.env`, so continuwuity.toml holds
 * no secret. No trailing newline: `registration_token_file` takes one token per line.
 */
export function continuwuitySecretFiles(s: DeploymentSettings): DeploymentFile[] {
  const files: DeploymentFile[] = [
    { name: 'secrets/turn_secret', content: s.secrets.TURN_SECRET ?? '', mode: 0o600 },
  ];
  if (s.registration === 'token') {
    files.push({
      name: 'secrets/registration_token',
      content: s.secrets.REGISTRATION_TOKEN ?? '',
      mode: 0o600,
    });
  }
  return files;
}

/**
 * continuwuity's `continuwuity.toml` (mounted read-only, named by `CONTINUWUITY_CONFIG`). The
 * TURN secret and the registration token come from files (see {@link continuwuitySecretFiles};
 * files rather than environment variables, because an empty `CONTINUWUITY_REGISTRATION_TOKEN`
 * would still be a token). No Conduit-era key (`CONDUIT_CONFIG`, `allow_presence`,
 * `presence_timeout`); every key exists in continuwuity v26.7.3 (docker/schema).
 */
export function renderContinuwuityToml(s: DeploymentSettings): string {
  const urls = deriveUrls(s);
  const federated = s.federation === 'on';
  const lines = [
    '# continuwuity configuration, written by `rtc-sidecars init` from .env. The TURN secret and',
    '# the registration token are read from secrets/ (mounted at ' +
      CONTINUWUITY_SECRETS_DIR +
      ').',
    '[global]',
    `server_name = ${str(s.serverName)}`,
    'database_path = "/var/lib/continuwuity"',
    'address = ["0.0.0.0"]',
    `port = ${PORTS.homeserver}`,
    'max_request_size = 20971520',
    '# No polling of continuwuity.org for announcements (an outbound request on a schedule).',
    'allow_announcements_check = false',
    '# No emoji appended to every new display name (it shows on call tiles).',
    'new_user_displayname_suffix = ""',
    '',
    '# Registration: ' + s.registration,
    `allow_registration = ${s.registration === 'off' ? 'false' : 'true'}`,
  ];
  if (s.registration === 'token') {
    lines.push(
      '# On a fresh database this token is refused until the first account exists: create that',
      '# one with the one-time token continuwuity prints at start (docker compose logs continuwuity).',
      `registration_token_file = ${str(`${CONTINUWUITY_SECRETS_DIR}/registration_token`)}`,
    );
  }
  if (s.registration === 'open') {
    lines.push(
      '# Open registration without a token: continuwuity refuses it unless this is set.',
      'yes_i_am_very_very_sure_i_want_an_open_registration_server_prone_to_abuse = true',
    );
  }
  lines.push('', `# Federation: ${s.federation}`);
  if (federated) {
    lines.push('allow_federation = true', 'trusted_servers = ["matrix.org"]');
  } else {
    lines.push(
      '# Federation is "off" by refusing every remote server, NOT by allow_federation = false:',
      '# with federation disabled outright continuwuity drops the federation router, including',
      '# GET /_matrix/federation/v1/openid/userinfo, which the LiveKit token service uses to check',
      '# OpenID tokens. Calls would then fail with OPEN_ID_ERROR.',
      'allow_federation = true',
      'forbidden_remote_server_names = [".*"]',
      'trusted_servers = []',
    );
  }
  lines.push(
    '',
    '# Presence: local and incoming on, with explicit timeouts. Outgoing presence follows the',
    '# federation choice (it is costly and pointless without remote servers).',
    'allow_local_presence = true',
    'allow_incoming_presence = true',
    `allow_outgoing_presence = ${federated ? 'true' : 'false'}`,
    'presence_idle_timeout_s = 300',
    'presence_offline_timeout_s = 1800',
    '',
    '# TURN for 1:1 calls: coturn, with the same static-auth-secret as turnserver.conf.',
    `turn_uris = ${arr(urls.turnUris)}`,
    `turn_secret_file = ${str(`${CONTINUWUITY_SECRETS_DIR}/turn_secret`)}`,
    'turn_ttl = 86400',
    '',
    '[global.well_known]',
    '# Also used for links in e-mails and account management, so set even though the',
    '# well-known service answers /.well-known/matrix/* in front of continuwuity.',
    `client = ${str(urls.homeserverBaseUrl)}`,
    `server = ${str(urls.federationServer)}`,
    '',
    '[global.matrix_rtc]',
    '# MSC4143 transports: the same livekit_service_url as the well-known service.',
    `foci = [{ type = "livekit", livekit_service_url = ${str(urls.livekitServiceUrl)} }]`,
  );
  return `${lines.join('\n')}\n`;
}

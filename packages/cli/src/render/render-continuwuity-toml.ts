import { type DeploymentSettings, deriveUrls, PORTS } from '../deployment/deployment-settings.ts';

const str = (v: string): string => JSON.stringify(v);
const arr = (vs: readonly string[]): string => `[${vs.map(str).join(', ')}]`;

/**
 * continuwuity's `continuwuity.toml` (mounted read-only, named by `CONTINUWUITY_CONFIG`). It
 * carries the TURN secret and the registration token copied from `.env` (a file rather than
 * environment variables, because an empty `CONTINUWUITY_REGISTRATION_TOKEN` would still be a
 * token), so it is written 0600. No Conduit-era key (`CONDUIT_CONFIG`, `allow_presence`,
 * `presence_timeout`).
 */
export function renderContinuwuityToml(s: DeploymentSettings): string {
  const urls = deriveUrls(s);
  const federated = s.federation === 'on';
  const lines = [
    '# continuwuity configuration, written by `rtc-sidecars init` from .env. It holds the TURN',
    '# secret and the registration token: keep it private (0600).',
    '[global]',
    `server_name = ${str(s.serverName)}`,
    'database_path = "/var/lib/continuwuity"',
    'address = ["0.0.0.0"]',
    `port = ${PORTS.homeserver}`,
    'max_request_size = 20971520',
    '',
    '# Registration: ' + s.registration,
    `allow_registration = ${s.registration === 'off' ? 'false' : 'true'}`,
  ];
  if (s.registration === 'token') {
    lines.push(`registration_token = ${str(s.secrets.REGISTRATION_TOKEN ?? '')}`);
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
    `turn_secret = ${str(s.secrets.TURN_SECRET ?? '')}`,
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

/**
 * Every failure `rtc-sidecars doctor` can name, with the likely cause and the fix. The entries
 * come from the troubleshooting notes of the hand-built deployment this project grew from and
 * from what users of Element Call on self-hosted homeservers report upstream, so an operator
 * sees the known answer, not a status. Operators read these: no internal names in them.
 */
export const PROBLEMS = {
  'dns-unresolved': {
    cause:
      'The name does not resolve: its A/AAAA record is missing or not yet visible (ENOTFOUND), or no DNS server answered (EAI_AGAIN).',
    fix: 'Create the A/AAAA record (rtc-sidecars init prints it) and wait for it to show (dig DOMAIN); to check before DNS is in place, add --via http://<the proxy address>.',
  },
  'fetch-bad-port': {
    cause:
      'The URL uses a port that fetch, like every browser, refuses to connect to (the "bad ports" list: 6000, 6665-6669, 10080 and others), so clients would fail too.',
    fix: 'Serve it on another port (443 for HTTPS); for --via, use the proxy on a port such as 80, 443 or 8080.',
  },
  'domain-unreachable': {
    cause: 'Nothing answers HTTPS on the domain: DNS, the firewall (443/tcp) or the reverse proxy.',
    fix: 'Check the A/AAAA record, that 443/tcp is open and that Traefik is running (docker compose ps).',
  },
  'well-known-404': {
    cause:
      'The reverse proxy does not send /.well-known/matrix/* to the well-known service (missing or lower-priority router).',
    fix: 'Route PathPrefix(`/.well-known/matrix`) to well-known with priority 100, above the homeserver catch-all.',
  },
  'well-known-504': {
    cause:
      'The reverse proxy cannot reach the well-known container (typically: the container is not on the Traefik network).',
    fix: 'Attach well-known to the proxy network (tipi_main_network, priority 1) and check its healthcheck.',
  },
  'well-known-content-type': {
    cause: 'The document is not served as application/json; some clients refuse it.',
    fix: 'Serve /.well-known/matrix/* from the well-known service (it sets Content-Type: application/json).',
  },
  'well-known-invalid': {
    cause:
      'The document is not the JSON clients expect (a static file with a typo, or an HTML page).',
    fix: 'Regenerate the configuration with rtc-sidecars init and let the well-known service serve it.',
  },
  'base-url-not-https': {
    cause:
      'm.homeserver.base_url (or a focus URL) uses plain http://; browsers on an https page refuse it.',
    fix: 'Publish https:// URLs (WELL_KNOWN_HOMESERVER_BASE_URL), or pass --insecure-http for a LAN test set-up.',
  },
  'cors-missing': {
    cause:
      'No Access-Control-Allow-Origin header: browsers (Element Web, Element Call) cannot read discovery and show MISSING_MATRIX_RTC_FOCUS.',
    fix: 'Let the well-known service answer /.well-known/matrix/* and the transports paths directly; do not serve them from a static file or strip headers in the proxy.',
  },
  'rtc-foci-missing': {
    cause:
      'The client document has no org.matrix.msc4143.rtc_foci LiveKit focus: older Element Call versions and other clients show "MISSING_MATRIX_RTC_FOCUS".',
    fix: 'Set WELL_KNOWN_LIVEKIT_SERVICE_URLS to the public livekit-jwt URL, e.g. https://DOMAIN/livekit-jwt.',
  },
  'server-well-known-missing': {
    cause:
      '/.well-known/matrix/server is missing, so OpenID lookups by livekit-jwt (and other servers) fall back to port 8448.',
    fix: 'Serve {"m.server":"DOMAIN:443"} from the well-known service (WELL_KNOWN_SERVER).',
  },
  'homeserver-unreachable': {
    cause:
      'The homeserver does not answer /_matrix/client/versions at the advertised base_url (container down, wrong route, or 502/504 from the proxy).',
    fix: 'Check the homeserver container and the catch-all route of the proxy (lowest priority) to it.',
  },
  'transports-not-routed': {
    cause:
      'The MSC4143 transports endpoint is not routed to a service that serves it; Element Call 0.24+ then shows MISSING_MATRIX_RTC_TRANSPORT.',
    fix: 'Route /_matrix/client/{v1,unstable/org.matrix.msc4143}/rtc/transports to well-known, or set [global.matrix_rtc] foci in continuwuity 0.5.6+.',
  },
  'transports-empty': {
    cause:
      'The transports endpoint answers but lists no LiveKit focus: Element Call shows MISSING_MATRIX_RTC_TRANSPORT.',
    fix: 'Configure the same LiveKit focus for the transports endpoint as in the client document.',
  },
  'foci-disagree': {
    cause:
      'The well-known rtc_foci and the transports endpoint name different LiveKit services; clients of different versions end up in different calls.',
    fix: 'Derive both from one value (rtc-sidecars init; check with rtc-sidecars check).',
  },
  'federation-disabled': {
    cause:
      'The federation OpenID route (/_matrix/federation/v1/openid/userinfo) is refused: federation is disabled outright, so livekit-jwt fails with OPEN_ID_ERROR.',
    fix: 'Keep allow_federation = true with forbidden_remote_server_names = [".*"], or point livekit-jwt at the homeserver with LIVEKIT_OPENID_OVERRIDES.',
  },
  'federation-unreachable': {
    cause:
      'The federation endpoint (from /.well-known/matrix/server, else port 8448) cannot be reached, so OpenID lookups fail with OPEN_ID_ERROR.',
    fix: 'Publish /.well-known/matrix/server pointing at :443, or open 8448; for livekit-jwt alone LIVEKIT_OPENID_OVERRIDES avoids the public route.',
  },
  'login-failed': {
    cause: 'The homeserver refused the credentials given to doctor.',
    fix: 'Check --user/--password, or pass a valid --access-token.',
  },
  'jwt-not-routed': {
    cause:
      'The LiveKit focus URL does not reach livekit-jwt (missing route or missing strip-prefix middleware).',
    fix: 'Route PathPrefix(`/livekit-jwt`) to livekit-jwt with a strip-prefix middleware.',
  },
  'jwt-unreachable': {
    cause: 'The proxy cannot reach the livekit-jwt container, or it is not running.',
    fix: 'Check docker compose ps and logs of livekit-jwt, and that it is on the proxy network.',
  },
  'openid-error': {
    cause:
      'livekit-jwt could not verify the OpenID token with the homeserver (OPEN_ID_ERROR): federation disabled, 8448 unreachable, private DNS or an untrusted certificate.',
    fix: 'Set LIVEKIT_OPENID_OVERRIDES=DOMAIN=http://continuwuity:8008 (internal URL), or fix the federation route.',
  },
  'livekit-secret-mismatch': {
    cause:
      "LiveKit refuses livekit-jwt's tokens or room creation: LIVEKIT_KEY/LIVEKIT_SECRET differ from the keys in livekit.yaml.",
    fix: 'Use one key and secret for both (the .env written by rtc-sidecars init), then restart livekit-jwt and LiveKit.',
  },
  'livekit-unreachable': {
    cause:
      'The LiveKit URL returned by livekit-jwt does not answer (wrong LIVEKIT_URL, missing /livekit/sfu route or WebSocket upgrade).',
    fix: 'Set LIVEKIT_URL to the public wss:// URL and route it to LiveKit port 7880 with WebSocket support.',
  },
  'livekit-url-not-wss': {
    cause: 'livekit-jwt hands out a LiveKit URL that is not wss:// (often https:// or ws://).',
    fix: 'Set LIVEKIT_URL=wss://DOMAIN/livekit/sfu.',
  },
  'livekit-turn-missing': {
    cause:
      "LiveKit's join response offers no TURN server, and Element Call takes its ICE servers from there only (not from /voip/turnServer): users behind UDP-blocking firewalls or symmetric NAT cannot connect.",
    fix: 'Add rtc.turn_servers to livekit.yaml for coturn (host TURN_HOST, port 3478, protocol udp and tcp, secret TURN_SECRET, ttl), as rtc-sidecars init writes it, and restart LiveKit.',
  },
  'livekit-turn-secret-mismatch': {
    cause:
      "coturn refuses the TURN credentials LiveKit hands out (401): the secret of livekit.yaml's rtc.turn_servers differs from coturn's static-auth-secret, so Element Call users who need a relay cannot connect.",
    fix: 'Set rtc.turn_servers[].secret in livekit.yaml to TURN_SECRET (the static-auth-secret of turnserver.conf) and restart LiveKit; rtc-sidecars check names the entry.',
  },
  'turn-not-configured': {
    cause: 'The homeserver hands out no TURN server: calls behind NAT fail ("Waiting for media").',
    fix: 'Set turn_uris and turn_secret (continuwuity) to the coturn URIs and its static-auth-secret.',
  },
  'turn-uris-not-array': {
    cause:
      'turn_uris is a comma-separated string instead of a JSON array (a common copy-paste mistake), so clients get no usable TURN URI.',
    fix: 'Write turn_uris = ["turn:HOST:3478?transport=udp", "turn:HOST:3478?transport=tcp"].',
  },
  'turn-secret-mismatch': {
    cause:
      "coturn rejects the homeserver's TURN credentials (401): its static-auth-secret differs from the homeserver's turn_secret.",
    fix: 'Use the same TURN_SECRET in turnserver.conf and the homeserver config (rtc-sidecars check finds the difference).',
  },
  'turn-unreachable': {
    cause:
      'The TURN URI does not answer: 3478/udp or tcp (5349 for turns:) closed, or coturn not running.',
    fix: 'Open 3478/udp+tcp, 5349/tcp and the relay range on the host firewall; check the coturn container (network_mode: host).',
  },
  'turn-relay-failed': {
    cause:
      'coturn allocated but did not relay: relay ports blocked, or denied-peer-ip/external-ip misconfigured.',
    fix: 'Open the relay port range (min-port..max-port) and set external-ip to the public address.',
  },
  'presence-disabled': {
    cause:
      'The homeserver refuses or silently drops presence updates (presence disabled): clients cannot set a status message or see who is online.',
    fix: 'Enable allow_local_presence and allow_incoming_presence in continuwuity (rtc-sidecars init does; Synapse: presence.enabled).',
  },
  'presence-not-stored': {
    cause: 'The homeserver accepted a status message but did not return it.',
    fix: 'Check that presence is enabled and not rate-limited; look at the homeserver logs.',
  },
  unexpected: {
    cause: 'An answer doctor does not recognise.',
    fix: 'Read the detail above and the logs of the service named in it.',
  },
} as const satisfies Record<string, { readonly cause: string; readonly fix: string }>;

/** The key of one entry of {@link PROBLEMS}. */
export type ProblemId = keyof typeof PROBLEMS;

/** The cause and fix of `id`, with `DOMAIN` replaced by the checked domain. */
export function describeProblem(id: ProblemId, domain: string): { cause: string; fix: string } {
  const { cause, fix } = PROBLEMS[id];
  return { cause: cause.replaceAll('DOMAIN', domain), fix: fix.replaceAll('DOMAIN', domain) };
}

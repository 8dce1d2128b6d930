import { renderTurnserverConf } from '@rtc-sidecars/turn';

import { type DeploymentSettings } from '../deployment/deployment-settings.ts';

/**
 * coturn's `turnserver.conf`, rendered by `@rtc-sidecars/turn` (hardened: REST secrets, no CLI,
 * no TCP relay, the full denied-peer-ip list) from the same `TURN_SECRET` the homeserver gets.
 * coturn runs with host networking as the deployment owner, so pid and database go to /tmp.
 */
export function renderCoturnConf(s: DeploymentSettings): string {
  return renderTurnserverConf({
    realm: s.turnHost,
    serverName: s.turnHost,
    secrets: [s.secrets.TURN_SECRET ?? ''],
    listeningPort: s.ports.turn,
    externalIp: s.externalIp,
    relayPorts: { min: s.ports.turnRelay.from, max: s.ports.turnRelay.to },
    pidFile: '/tmp/turnserver.pid',
    userDb: '/tmp/turndb',
  });
}

import { type Finding } from './finding.ts';
import { federationRule, fociRule, presenceRule, turnUrisRule } from './homeserver-rules.ts';
import { livekitTurnRule } from './livekit-turn-rules.ts';
import { type Deployment, loadDeployment } from './load-deployment.ts';
import { deniedPeerRule, externalIpRule, nodeIpRule } from './media-rules.ts';
import { portRule } from './port-rules.ts';
import { redisRule, replicasRule } from './scale-rules.ts';
import { livekitKeyRule, livekitSecretLengthRule, turnSecretRule } from './secret-rules.ts';

export { type Finding, formatFinding } from './finding.ts';

/** Every rule `check` applies, each a pure function of the parsed deployment. */
export const RULES: readonly ((d: Deployment) => Finding[])[] = [
  turnSecretRule,
  livekitTurnRule,
  livekitKeyRule,
  livekitSecretLengthRule,
  turnUrisRule,
  federationRule,
  presenceRule,
  fociRule,
  portRule,
  nodeIpRule,
  externalIpRule,
  deniedPeerRule,
  replicasRule,
  redisRule,
];

/** Reads the deployment folder `dir` and returns every inconsistency found; empty when clean. */
export function checkDeployment(dir: string): Finding[] {
  const findings: Finding[] = [];
  const deployment = loadDeployment(dir, findings);
  for (const rule of RULES) findings.push(...rule(deployment));
  return findings;
}

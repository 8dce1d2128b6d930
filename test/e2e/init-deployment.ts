import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile, runCli } from '@rtc-sidecars/cli';

/** Secrets shared by the components, generated once per run. */
export interface StackSecrets {
  readonly livekitKey: string;
  readonly livekitSecret: string;
  readonly turnSecret: string;
}

/** What `rtc-sidecars init` wrote that the stack runs: the secrets and two config files. */
export interface GeneratedDeployment {
  readonly secrets: StackSecrets;
  /** livekit.yaml as generated (run through `onLoopback` before use). */
  readonly livekitYaml: string;
  /** turnserver.conf as generated (run through `onLoopback` before use). */
  readonly turnserverConf: string;
}

/**
 * init refuses private and documentation addresses, so the placeholder is a public unicast one.
 * `onLoopback` replaces it wherever it lands (LiveKit's node_ip, coturn's external-ip).
 */
const PLACEHOLDER_PUBLIC_IP = '203.0.114.7';

/**
 * Runs `rtc-sidecars init` into a throw-away folder and reads back the LiveKit key and secret and
 * the TURN secret from the `.env` it wrote, and the livekit.yaml and turnserver.conf it rendered,
 * so the stack runs on exactly the secrets and configs an operator gets.
 */
export async function initDeployment(domain: string): Promise<GeneratedDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-init-'));
  try {
    const errors: string[] = [];
    const code = await runCli(
      ['init', '--domain', domain, '--external-ip', PLACEHOLDER_PUBLIC_IP, '--out', dir],
      { out: () => undefined, err: (line) => errors.push(line), cwd: dir },
    );
    if (code !== 0) throw new Error(`rtc-sidecars init exited ${code}: ${errors.join('\n')}`);
    const env = parseEnvFile(await readFile(join(dir, '.env'), 'utf8'));
    const pick = (name: string): string => {
      const value = env[name];
      if (value === undefined || value === '') throw new Error(`init wrote no ${name}`);
      return value;
    };
    return {
      secrets: {
        livekitKey: pick('LIVEKIT_KEY'),
        livekitSecret: pick('LIVEKIT_SECRET'),
        turnSecret: pick('TURN_SECRET'),
      },
      livekitYaml: await readFile(join(dir, 'livekit.yaml'), 'utf8'),
      turnserverConf: await readFile(join(dir, 'turnserver.conf'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

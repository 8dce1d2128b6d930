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

/**
 * init refuses private and documentation addresses, so the placeholder is a public unicast one.
 * It only lands in config files this suite never uses; nothing ever connects to it.
 */
const PLACEHOLDER_PUBLIC_IP = '203.0.114.7';

/**
 * Runs `rtc-sidecars init` into a throw-away folder and reads the LiveKit key, LiveKit secret and
 * TURN secret back from the `.env` it wrote, so the stack runs on exactly the secrets an operator
 * gets.
 */
export async function initSecrets(domain: string): Promise<StackSecrets> {
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
      livekitKey: pick('LIVEKIT_KEY'),
      livekitSecret: pick('LIVEKIT_SECRET'),
      turnSecret: pick('TURN_SECRET'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

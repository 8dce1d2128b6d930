import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { repoRoot } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseEnvFile } from '../src/deployment/env-file.ts';
import { removeDir, tempDir } from './cli-harness.ts';

// The operator's path, as the README prints it: install the command with scripts/install-cli.sh,
// run the quick start's init from a folder outside the repository, then every command init
// prints, as printed. What this test rewrites, and only here:
//   - the install prefix (`--prefix`), so the machine's global npm folder stays untouched;
//   - /srv/rtc, to a temporary folder;
//   - the README's placeholder address 203.0.113.5 (which init refuses, see below) to a public one;
//   - DNS: the installed command runs with no-dns.ts preloaded, so every name is unknown, as it
//     is before the operator creates the records; nothing leaves the machine.
// `docker …` lines are not run (no engine here; the compose test runs the stack).

const NO_DNS = fileURLToPath(new URL('./no-dns.ts', import.meta.url));
const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const LAB_IP = '45.67.89.10';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let work: string;
let prefix: string;
let env: NodeJS.ProcessEnv;

/**
 * Runs `script` in bash. Its stdin is /dev/null: Node hands a child a socket as stdin, and
 * Debian's bash then sources the system bashrc as for a remote shell.
 */
function bash(script: string, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['--norc', '--noprofile', '-eo', 'pipefail', '-c', `exec </dev/null\n${script}`],
      { cwd, env, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The shell blocks of a README section, continuation lines joined. */
function shellBlocks(heading: string): string[][] {
  const section = README.slice(README.indexOf(heading));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].slice(0, 2).map((m) =>
    (m[1] ?? '')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
}

/** The commands init printed under "Next:" and "After editing …", without the comments. */
function printedSteps(stdout: string): string[] {
  const lines = stdout.split('\n');
  const next = lines.indexOf('Next:');
  return lines
    .slice(next + 1)
    .filter((l) => l.startsWith('  '))
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('#'));
}

beforeAll(() => {
  work = tempDir('rtc-operator-');
  prefix = join(work, 'prefix');
  // Only the installed command and Node on PATH: no pnpm, no checkout tools, no docker.
  env = {
    HOME: work,
    PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
  };
});
afterAll(() => {
  removeDir(work);
});

describe('the installed rtc-sidecars command', () => {
  const [quickStart = [], nextSteps = []] = shellBlocks('### On a server');
  const deployment = (): string => join(work, 'srv', 'rtc');
  const rewrite = (line: string): string =>
    line
      .replace('scripts/install-cli.sh', `scripts/install-cli.sh --prefix ${prefix}`)
      .replaceAll('/srv/rtc', deployment())
      .replace('PUBLIC_IP=203.0.113.5', `PUBLIC_IP=${LAB_IP}`);
  let init: Run;

  it("should refuse the README's placeholder address until it is replaced, naming the lab flag", async () => {
    const line = quickStart.find((l) => l.startsWith('rtc-sidecars init')) ?? '';
    expect(line).toContain('"$PUBLIC_IP"');
    const install = await bash(rewrite(quickStart[0] ?? ''), repoRoot);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toMatch(/^Prerequisites:\n {2}✓ node/);
    expect(install.stdout).toMatch(/\n {2}[✓✗] docker compose /);
    expect(install.stdout).toMatch(/Installed rtc-sidecars \d+\.\d+\.\d+ as /);
    const run = await bash(
      `PUBLIC_IP=203.0.113.5; ${line.replaceAll('/srv/rtc', deployment())}`,
      work,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /"203\.0\.113\.5" is not a public address: it is a documentation address.*--allow-private-ip/,
    );
  });

  it('should run the quick start from a folder outside the checkout', async () => {
    init = await bash(quickStart.map(rewrite).join('\n'), repoRoot);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const written = parseEnvFile(readFileSync(join(deployment(), '.env'), 'utf8'));
    expect(written).toMatchObject({
      SERVER_NAME: 'hi.example.org',
      EXTERNAL_IP: LAB_IP,
      PROXY: 'standalone',
    });
    // No checkout behind the installed command: the compose file uses the published images.
    expect(written.RTC_SIDECARS_SRC).toBe('');
    expect((await bash('rtc-sidecars --version', work)).stdout).toMatch(
      /^rtc-sidecars \d+\.\d+\.\d+\n$/,
    );
  });

  it('should print the next steps the README shows', () => {
    const printed = printedSteps(init.stdout);
    const shown = nextSteps.map((l) => rewrite(l).trim());
    expect(printed.slice(0, shown.length)).toEqual(shown);
  });

  it('should run every printed step that needs no Docker engine, as printed', async () => {
    const steps = printedSteps(init.stdout).filter((l) => !/(^|&& )docker /.test(l));
    expect(steps).toEqual([
      `rtc-sidecars doctor ${deployment()}   # live checks once it is up`,
      `rtc-sidecars init ${deployment()}`,
      `rtc-sidecars check ${deployment()}`,
    ]);
    env = { ...env, NODE_OPTIONS: `--import=${NO_DNS}` };
    const doctor = await bash(steps[0] ?? '', work);
    // It runs (exit 1: checks failed, not 2: bad usage) and says why: no DNS record yet.
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('rtc-sidecars doctor hi.example.org');
    expect(doctor.stdout).toContain('DNS has no address for hi.example.org (ENOTFOUND)');
    expect(doctor.stdout).toMatch(/fix: {3}Create the A\/AAAA record/);
    const again = await bash(steps[1] ?? '', work);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      'Unchanged: .env, compose.yaml, livekit.yaml, turnserver.conf, continuwuity.toml, secrets/turn_secret, secrets/registration_token',
    );
    // A reader that stops early (| head) ends the command quietly.
    const piped = await bash(`${steps[1] ?? ''} | head -1`, work);
    expect(piped.stdout).toBe(`Deployment folder: ${deployment()}\n`);
    expect(piped.stderr).toBe('');
    const check = await bash(steps[2] ?? '', work);
    expect(check.stdout).toBe(`${deployment()}: consistent\n`);
    expect(check.code).toBe(0);
  });

  it('should keep a hand edit of .env and render it into the other files', async () => {
    const envPath = join(deployment(), '.env');
    writeFileSync(
      envPath,
      readFileSync(envPath, 'utf8').replace(/^TURN_PORT=.*$/m, 'TURN_PORT=3479'),
    );
    const run = await bash('cd "$1" && rtc-sidecars init'.replace('$1', deployment()), work);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Wrote: livekit.yaml, turnserver.conf, continuwuity.toml');
    expect(readFileSync(join(deployment(), 'turnserver.conf'), 'utf8')).toMatch(
      /^listening-port=3479$/m,
    );
    expect(readFileSync(join(deployment(), 'continuwuity.toml'), 'utf8')).toContain(
      'turn:hi.example.org:3479?transport=udp',
    );
  });

  it('should carry no path of the checkout', () => {
    const bundle = readFileSync(
      join(prefix, 'lib/node_modules/@rtc-sidecars/cli/rtc-sidecars.mjs'),
      'utf8',
    );
    expect(bundle).not.toContain(repoRoot);
  });
});

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { checkTurnRelay } from '@rtc-sidecars/turn';

import { EXIT, UsageError } from '../cli-error.ts';
import { deploymentDir, parseCommandArgs } from '../commands/command-args.ts';
import type { Command } from '../commands/command.ts';
import { parseEnvFile } from '../deployment/env-file.ts';
import { parseServerName } from '../deployment/server-name.ts';
import type { CliIo } from '../io.ts';
import type { CheckResult } from './doctor-check.ts';
import type { DoctorCredentials, DoctorDeps, DoctorSettings } from './doctor-context.ts';
import { rewriteUrl, viaFetch } from './doctor-http.ts';
import { spinnerProgress } from './doctor-progress.ts';
import { renderJson, reportHeader, reportSummary, resultPrinter } from './render-report.ts';
import { CHECK_IDS, type DoctorProgress, runDoctor } from './run-doctor.ts';
import { webSocketJoin } from './signal-join.ts';

const USAGE = `usage: rtc-sidecars doctor [DIR] [--domain NAME] [options]

Checks a live deployment the way Element Call does and prints one line per check (✓ passed,
✗ failed, - skipped) with its latency; under each failure, the likely cause and the fix.
Without credentials only the public checks run (discovery, CORS, routing, federation OpenID,
livekit-jwt health). Exit code 0 when no check failed, 1 when one did, 2 on bad usage.

The server name is --domain, else SERVER_NAME from DIR/.env (DIR: default the current folder).

options:
  --domain NAME           Matrix server name users type in, e.g. hi.example.org
  --user MXID             a user to log in as (@doctor:hi.example.org); doctor logs out again
  --password PASSWORD     its password (visible to other local users; prefer --password-file)
  --password-file FILE    read the password from the first line of FILE
  --access-token TOKEN    use an existing session instead of --user/--password
  --json                  print one JSON document (no progress indicator)
  --via URL               send requests for https://NAME to URL instead, e.g. the proxy's LAN
                          address http://192.168.1.10:80 before DNS or certificates are ready
  --insecure-http         accept http:// and ws:// URLs in the deployment (LAN set-ups)
  --timeout SECONDS       limit for each network exchange, default 10
  --skip ID[,ID…]         do not run these checks (ids as in --json, e.g. presence)

The user's presence status message is set to "rtc-sidecars doctor …" for a moment and then
restored. A probe LiveKit room named after "!rtc-sidecars-doctor-…" is joined and left.`;

const OPTIONS = {
  domain: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'access-token': { type: 'string' },
  json: { type: 'boolean', default: false },
  via: { type: 'string' },
  'insecure-http': { type: 'boolean', default: false },
  timeout: { type: 'string', default: '10' },
  skip: { type: 'string', multiple: true },
} as const;

interface Values {
  readonly domain?: string;
  readonly user?: string;
  readonly password?: string;
  readonly 'password-file'?: string;
  readonly 'access-token'?: string;
  readonly json: boolean;
  readonly via?: string;
  readonly 'insecure-http': boolean;
  readonly timeout: string;
  readonly skip?: string[];
}

function parse(args: readonly string[]): { values: Values; positionals: string[] } {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  return { values: values as unknown as Values, positionals };
}

/** The server name: `--domain`, else SERVER_NAME of the deployment folder's `.env`. */
function domainOf(values: Values, positionals: readonly string[], io: CliIo): string {
  if (values.domain !== undefined) {
    if (positionals.length > 0)
      throw new UsageError('give a deployment folder or --domain, not both');
    return parseServerName(values.domain);
  }
  const dir = deploymentDir('doctor', positionals, io.cwd);
  const envPath = join(dir, '.env');
  if (!existsSync(envPath)) {
    throw new UsageError(
      `--domain NAME is required: ${dir} holds no deployment (.env) to read SERVER_NAME from`,
    );
  }
  const name = parseEnvFile(readFileSync(envPath, 'utf8')).SERVER_NAME ?? '';
  return parseServerName(name, `SERVER_NAME in ${envPath}`);
}

function readPasswordFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (error) {
    throw new UsageError(`--password-file: ${(error as Error).message}`);
  }
}

function credentialsFrom(values: Values, io: CliIo): DoctorCredentials | undefined {
  const token = values['access-token'];
  const file = values['password-file'];
  if (values.password !== undefined && file !== undefined) {
    throw new UsageError('give --password or --password-file, not both');
  }
  const password = file === undefined ? values.password : readPasswordFile(resolve(io.cwd, file));
  if (token !== undefined) {
    if (values.user !== undefined || password !== undefined) {
      throw new UsageError('give --access-token or --user with a password, not both');
    }
    return { accessToken: token };
  }
  if (values.user === undefined && password === undefined) return undefined;
  if (values.user === undefined || password === undefined || password === '') {
    throw new UsageError('--user needs --password or --password-file (and the reverse)');
  }
  return { user: values.user, password };
}

/** Settings from the flags; every bad value is a {@link UsageError}. */
export function doctorSettings(
  args: readonly string[],
  io: CliIo,
): DoctorSettings & { json: boolean; via?: string } {
  const { values, positionals } = parse(args);
  const domain = domainOf(values, positionals, io);
  const seconds = Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a number of seconds above 0, got "${values.timeout}"`);
  }
  if (values.via !== undefined && !/^https?:\/\/[^/]/.test(values.via)) {
    throw new UsageError(`--via must be an http:// or https:// URL, got "${values.via}"`);
  }
  const credentials = credentialsFrom(values, io);
  const skipped = (values.skip ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const unknown = skipped.find((id) => !CHECK_IDS.includes(id));
  if (unknown !== undefined) {
    throw new UsageError(`--skip: unknown check "${unknown}" (checks: ${CHECK_IDS.join(', ')})`);
  }
  return {
    skip: skipped,
    domain,
    insecureHttp: values['insecure-http'],
    timeoutMs: Math.round(seconds * 1000),
    json: values.json,
    ...(credentials === undefined ? {} : { credentials }),
    ...(values.via === undefined ? {} : { via: values.via }),
  };
}

/** The real network, with `--via` applied to HTTP and to the signalling WebSocket. */
export function networkDeps(domain: string, via: string | undefined): DoctorDeps {
  const rewrite =
    via === undefined ? (u: string) => u : (u: string) => rewriteUrl(u, domain, new URL(via));
  return {
    fetch: via === undefined ? fetch : viaFetch(domain, via),
    signalJoin: (url, timeoutMs) => webSocketJoin(rewrite(url), timeoutMs),
    turnRelay: checkTurnRelay,
    nonce: () => randomBytes(6).toString('hex'),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { json, via, ...settings } = doctorSettings(args, io);
  const deps = networkDeps(settings.domain, via);
  const format = resultPrinter(settings.domain);
  const print = (result: CheckResult): void => {
    for (const line of format(result)) io.out(line);
  };
  let progress: DoctorProgress = {};
  if (!json) {
    for (const line of reportHeader(settings.domain)) io.out(line);
    // The spinner only makes sense on a terminal; pipes and CI logs get plain lines.
    progress = process.stderr.isTTY ? spinnerProgress(process.stderr, print) : { done: print };
  }
  const report = await runDoctor(settings, deps, progress);
  if (json) io.out(renderJson(report));
  else for (const line of reportSummary(report)) io.out(line);
  return report.ok ? EXIT.ok : EXIT.failed;
}

/** `rtc-sidecars doctor`: live checks of a deployment, as a client makes them. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check a live deployment as Element Call does (exit 0 only when no check fails)',
  usage: USAGE,
  run,
};

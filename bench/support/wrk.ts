// wrk (Debian's `wrk`, 4.x) as the load generator: a Lua script sets the request and prints the
// summary as JSON, so the figures are read from wrk itself, not parsed from its text report.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../../test/harness/index.ts';

/** One wrk run: answered requests, their rate and latency percentiles (ms), failures. */
export interface WrkResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Non-2xx/3xx answers plus connect, read, write and timeout errors. */
  readonly bad: number;
}

/** What to send. */
export interface WrkRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly durationS: number;
}

const lua = (s: string): string => JSON.stringify(s); // a JSON string is a valid Lua string here

/** The Lua script for `request`: method, body and headers, and a JSON summary in `done`. */
export function wrkScript(request: WrkRequest): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`)
    .join('\n');
  return `wrk.method = ${lua(request.method ?? 'GET')}
${request.body === undefined ? '' : `wrk.body = ${lua(request.body)}`}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"bad":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

/**
 * Runs wrk with one thread (it inherits this process's CPU affinity: core 0 under
 * `pnpm bench`) against `request.url` and returns its summary.
 */
export async function runWrk(request: WrkRequest): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(script, wrkScript(request));
    const args = [
      '-t1',
      `-c${request.connections}`,
      `-d${request.durationS}s`,
      '--timeout',
      '5s',
      '-s',
      script,
      request.url,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(requireTool('wrk'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`wrk exited ${code}:\n${out}`));
      });
    });
    const line = /^WRK (.*)$/m.exec(output)?.[1];
    if (line === undefined) throw new Error(`no summary from wrk:\n${output}`);
    const s = JSON.parse(line) as Record<string, number>;
    const ms = (us: number | undefined): number => (us ?? NaN) / 1000;
    const requests = s.requests ?? 0;
    return {
      requests,
      rps: requests / ((s.duration_us ?? NaN) / 1e6),
      p50: ms(s.p50),
      p90: ms(s.p90),
      p99: ms(s.p99),
      max: ms(s.max),
      bad: s.bad ?? 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type Finding } from './finding.ts';
import { composeFileNames, loadComposeServices } from './load-compose.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-compose-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('composeFileNames', () => {
  it('should follow COMPOSE_FILE and its separator, else compose.yaml', () => {
    expect(composeFileNames({})).toEqual(['compose.yaml']);
    expect(composeFileNames({ COMPOSE_FILE: '' })).toEqual(['compose.yaml']);
    expect(composeFileNames({ COMPOSE_FILE: 'a.yaml:b.yaml' })).toEqual(['a.yaml', 'b.yaml']);
    expect(
      composeFileNames({ COMPOSE_FILE: 'a.yaml;b.yaml', COMPOSE_PATH_SEPARATOR: ';' }),
    ).toEqual(['a.yaml', 'b.yaml']);
  });
});

describe('loadComposeServices', () => {
  it('should merge an override as compose does and remember where each setting came from', () => {
    const dir = folder({
      'base.yaml': [
        'services:',
        '  jwt:',
        '    environment: [A=1, B=2]',
        '    ports: ["80:80"]',
        '    command: [x, y]',
      ].join('\n'),
      'over.yaml': [
        'services:',
        '  jwt:',
        '    environment: { B: 3, C: 4 }',
        '    ports: ["81:81"]',
        '    command: [z]',
        '    deploy: { replicas: 2 }',
        '  extra: { image: "r:1" }',
      ].join('\n'),
    });
    const findings: Finding[] = [];
    const services = loadComposeServices(dir, { COMPOSE_FILE: 'base.yaml:over.yaml' }, findings);
    expect(findings).toEqual([]);
    expect(services?.jwt?.value).toEqual({
      environment: { A: '1', B: 3, C: 4 },
      ports: ['80:80', '81:81'],
      command: ['z'],
      deploy: { replicas: 2 },
    });
    expect(services?.jwt?.origins).toMatchObject({
      'environment.A': 'base.yaml',
      'environment.B': 'over.yaml',
      deploy: 'over.yaml',
    });
    expect(Object.keys(services ?? {})).toEqual(['jwt', 'extra']);
  });

  it('should report a missing or unparseable file and keep the others', () => {
    const dir = folder({ 'compose.yaml': 'services:\n  a: {}\n', 'bad.yaml': 'services: [\n' });
    const findings: Finding[] = [];
    const env = { COMPOSE_FILE: 'compose.yaml:bad.yaml:gone.yaml' };
    expect(Object.keys(loadComposeServices(dir, env, findings) ?? {})).toEqual(['a']);
    expect(findings.map((f) => `${f.file} ${f.rule}`)).toEqual([
      'bad.yaml unreadable-file',
      'gone.yaml missing-file',
    ]);
    expect(loadComposeServices(folder({}), {}, [])).toBeUndefined();
  });
});

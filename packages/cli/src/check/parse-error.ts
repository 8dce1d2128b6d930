import { type Finding } from './finding.ts';

/** Where a YAML (`linePos`) or TOML (`line`, `column`) parser says the error is. */
function position(error: unknown): { line: number; column?: number } | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as {
    linePos?: { line: number; col: number }[];
    line?: unknown;
    column?: unknown;
  };
  const yaml = e.linePos?.[0];
  if (yaml !== undefined) return { line: yaml.line, column: yaml.col };
  if (typeof e.line === 'number') {
    return { line: e.line, ...(typeof e.column === 'number' ? { column: e.column } : {}) };
  }
  return undefined;
}

/**
 * The `unreadable-file` finding for a file that does not parse, with the line (and column) in
 * the key so the operator can go straight there. The parser's message is cut to its first
 * sentence: both parsers follow it with a code excerpt that would print the file's secrets.
 */
export function parseErrorFinding(file: string, error: unknown): Finding {
  const at = position(error);
  const raw = error instanceof Error ? error.message : String(error);
  const first = (raw.split('\n')[0] ?? '').replace(/\s+at line \d+(, column \d+)?:?$/, '');
  return {
    rule: 'unreadable-file',
    file,
    key:
      at === undefined
        ? '-'
        : `line ${at.line}${at.column === undefined ? '' : `, column ${at.column}`}`,
    message: `cannot parse: ${first}`,
  };
}

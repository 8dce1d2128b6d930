/**
 * Reads a docker-compose style `.env` file: `KEY=value` lines, `#` comments, optional single or
 * double quotes around the value. Later duplicates win, as in compose.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (m === null) continue;
    const key = m[1] ?? '';
    let value = m[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(.)/g, '$1');
    } else {
      // An unquoted value ends at " #" (an inline comment), as compose reads it.
      const hash = value.indexOf(' #');
      if (hash !== -1) value = value.slice(0, hash).trimEnd();
    }
    out[key] = value;
  }
  return out;
}

/** A section of an env file: a comment header and its variables, in order. */
export interface EnvSection {
  readonly comment: readonly string[];
  readonly entries: readonly (readonly [string, string])[];
}

/**
 * A value as an env line holds it: bare when it is made of safe characters (every generated
 * value is), else in single quotes, which compose reads literally (no `$` interpolation), or in
 * double quotes with escapes when it contains a single quote itself.
 */
export function quoteEnvValue(value: string): string {
  if (/^[A-Za-z0-9_.,:/@%+=-]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** Writes sections as an env file, quoting values only where needed ({@link quoteEnvValue}). */
export function formatEnvFile(header: readonly string[], sections: readonly EnvSection[]): string {
  const lines = header.map((l) => `# ${l}`.trimEnd());
  for (const section of sections) {
    lines.push('');
    for (const c of section.comment) lines.push(`# ${c}`.trimEnd());
    for (const [key, value] of section.entries) lines.push(`${key}=${quoteEnvValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

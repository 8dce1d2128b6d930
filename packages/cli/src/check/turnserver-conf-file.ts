/** A parsed `turnserver.conf`: every value of every option, in file order. */
export type TurnserverConf = ReadonlyMap<string, readonly string[]>;

/**
 * Reads coturn's config syntax: `option=value`, `option value` or a bare flag per line, `#`
 * comments. Leading `--` is allowed, as coturn allows it.
 */
export function parseTurnserverConf(text: string): TurnserverConf {
  const out = new Map<string, string[]>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:--)?([A-Za-z0-9_-]+)\s*(?:=\s*|\s+)?(.*)$/.exec(line);
    if (m === null) continue;
    const key = (m[1] ?? '').toLowerCase();
    const list = out.get(key) ?? [];
    list.push((m[2] ?? '').trim());
    out.set(key, list);
  }
  return out;
}

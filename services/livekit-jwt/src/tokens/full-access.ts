/**
 * Parses `LIVEKIT_FULL_ACCESS_HOMESERVERS` as upstream does: split on commas and whitespace,
 * empty items dropped.
 */
export function parseFullAccessList(raw: string): readonly string[] {
  return Object.freeze(raw.split(/[\s,]+/).filter((s) => s !== ''));
}

/**
 * True when users of `serverName` get full access (room creation, publishing). The list is a
 * wildcard only when it is exactly `["*"]`; otherwise matching is exact and case-sensitive,
 * ports included (`*,example.com` grants nothing to other servers), as upstream.
 */
export function isFullAccess(list: readonly string[], serverName: string): boolean {
  if (list.length === 1 && list[0] === '*') return true;
  return list.includes(serverName);
}

/**
 * Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$VAR` interpolation with
 * `$$` as a literal dollar, applied to every string of a parsed YAML document.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      match,
      braced: string | undefined,
      colon: string | undefined,
      fallback: string | undefined,
      bare: string | undefined,
    ) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      if (fallback !== undefined) {
        const unset = value === undefined || (colon === ':' && value === '');
        return unset ? fallback : value;
      }
      return value ?? '';
    },
  );
}

/** {@link interpolate} applied to every string in a JSON-like value. */
export function interpolateDeep(value: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

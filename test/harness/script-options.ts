import { parseArgs } from 'node:util';

/** A default for {@link scriptOptions}; `undefined` marks an optional number with no default. */
export type OptionDefault = string | number | boolean | undefined;

/** What an option parses to: the type of its default, or an optional number without one. */
export type ParsedOption<D> = D extends boolean
  ? boolean
  : D extends number
    ? number
    : D extends string
      ? string
      : number | undefined;

/**
 * Parses the `--name value` options of a measuring script (bench/, test/reliability/) from the
 * defaults alone: a number default makes a number option, a string one a string, a boolean one a
 * flag, and `undefined` an optional number. An unknown option or a number that does not parse
 * throws, so a typo stops the run instead of measuring with NaN or a silent default.
 */
export function scriptOptions<const D extends Readonly<Record<string, OptionDefault>>>(
  defaults: D,
  args: readonly string[] = process.argv.slice(2),
): { readonly [K in keyof D]: ParsedOption<D[K]> } {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [
      name,
      typeof value === 'boolean'
        ? { type: 'boolean' as const, default: value }
        : { type: 'string' as const, ...(value === undefined ? {} : { default: String(value) }) },
    ]),
  );
  const { values } = parseArgs({ args: [...args], options });
  const parsed: Record<string, string | number | boolean | undefined> = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const value = values[name];
    if (typeof fallback === 'string' || typeof value !== 'string') {
      parsed[name] = value;
      continue;
    }
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number)) {
      throw new Error(`--${name} wants a number, got "${value}"`);
    }
    parsed[name] = number;
  }
  return parsed as { readonly [K in keyof D]: ParsedOption<D[K]> };
}

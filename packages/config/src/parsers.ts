import { ConfigValueError } from './config-error.ts';
import { EnvVar } from './env-var.ts';

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** A non-empty string, trimmed. */
export function string(name: string): EnvVar<string> {
  return new EnvVar(name, (raw) => raw);
}

/** An integer within `[min, max]`. */
export function integer(name: string, range: { min?: number; max?: number } = {}): EnvVar<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  return new EnvVar(name, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new ConfigValueError(`must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) {
      throw new ConfigValueError(`must be between ${min} and ${max}, got ${raw}`);
    }
    return value;
  });
}

/** `true/false`, `1/0`, `yes/no`, `on/off`, case-insensitive. */
export function boolean(name: string): EnvVar<boolean> {
  return new EnvVar(name, (raw) => {
    const v = raw.toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new ConfigValueError(`must be true or false, got "${raw}"`);
  });
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(name: string, words: readonly W[]): EnvVar<W> {
  return new EnvVar(name, (raw) => {
    const found = words.find((w) => w === raw);
    if (found === undefined) {
      throw new ConfigValueError(`must be one of ${words.join(', ')}, got "${raw}"`);
    }
    return found;
  });
}

/** A comma-separated list; blanks around entries are dropped, empty entries refused. */
export function list(name: string): EnvVar<readonly string[]> {
  return new EnvVar(name, (raw) => {
    const items = raw.split(',').map((s) => s.trim());
    const empty = items.findIndex((s) => s === '');
    if (empty !== -1) throw new ConfigValueError(`entry ${empty + 1} of the list is empty`);
    return Object.freeze(items);
  });
}

/** A JSON document; `validate` narrows it and throws {@link ConfigValueError} on a bad shape. */
export function json<T>(name: string, validate: (value: unknown) => T): EnvVar<T> {
  return new EnvVar(name, (raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new ConfigValueError(`is not valid JSON (${(err as Error).message})`);
    }
    return validate(value);
  });
}

/** `host:port` or `:port` (all interfaces); IPv6 hosts in brackets. */
export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses a listen address such as `0.0.0.0:8080`, `[::]:8080`, `127.0.0.1:0` or `:8080`. */
export function parseBind(raw: string): BindAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw);
  if (!m) throw new ConfigValueError(`must be host:port (e.g. 0.0.0.0:8080), got "${raw}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigValueError(`port ${port} is out of range`);
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
  return Object.freeze({ host, port });
}

/** A listen address, see {@link parseBind}. */
export function bind(name: string): EnvVar<BindAddress> {
  return new EnvVar(name, parseBind);
}

import { ConfigValueError } from './config-error.ts';

/** Turns the raw string of one variable into a typed value, or throws {@link ConfigValueError}. */
export type Parser<T> = (raw: string) => T;

type Presence<T> =
  | { readonly kind: 'required' }
  | { readonly kind: 'optional' }
  | { readonly kind: 'default'; readonly value: T };

/**
 * Declaration of one environment variable: its name, how to parse it, whether it may be absent
 * and whether it is a secret (which enables `NAME_FILE` and keeps its value out of messages).
 * Immutable: every modifier returns a new declaration.
 */
export class EnvVar<T> {
  public readonly name: string;
  public readonly parser: Parser<T>;
  public readonly isSecret: boolean;
  public readonly presence: Presence<T>;
  public readonly aliases: readonly string[];

  public constructor(
    name: string,
    parser: Parser<T>,
    options: {
      secret?: boolean;
      presence?: Presence<T>;
      aliases?: readonly string[];
    } = {},
  ) {
    this.name = name;
    this.parser = parser;
    this.isSecret = options.secret ?? false;
    this.presence = options.presence ?? { kind: 'required' };
    this.aliases = options.aliases ?? [];
  }

  /** The variable may be unset (or empty); its value is then `undefined`. */
  public optional(): EnvVar<T | undefined> {
    return new EnvVar<T | undefined>(this.name, this.parser, {
      secret: this.isSecret,
      presence: { kind: 'optional' },
      aliases: this.aliases,
    });
  }

  /** The variable may be unset (or empty); its value is then `value`. */
  public default(value: T): EnvVar<T> {
    return new EnvVar<T>(this.name, this.parser, {
      secret: this.isSecret,
      presence: { kind: 'default', value },
      aliases: this.aliases,
    });
  }

  /** Marks the value secret: `NAME_FILE` may hold a path to read it from, and it is never echoed. */
  public secret(): EnvVar<T> {
    return new EnvVar<T>(this.name, this.parser, {
      secret: true,
      presence: this.presence,
      aliases: this.aliases,
    });
  }

  /** Older names accepted when `name` is unset (kept for drop-in compatibility). */
  public alias(...names: string[]): EnvVar<T> {
    return new EnvVar<T>(this.name, this.parser, {
      secret: this.isSecret,
      presence: this.presence,
      aliases: [...this.aliases, ...names],
    });
  }

  /** Adds a check or a transformation after parsing. */
  public refine<U>(fn: (value: T) => U): EnvVar<U> {
    const parser = this.parser;
    const presence: Presence<U> =
      this.presence.kind === 'default'
        ? { kind: 'default', value: fn(this.presence.value) }
        : this.presence;
    return new EnvVar<U>(this.name, (raw) => fn(parser(raw)), {
      secret: this.isSecret,
      presence,
      aliases: this.aliases,
    });
  }
}

/** Throws a {@link ConfigValueError}; handy inside {@link EnvVar.refine}. */
export function invalid(message: string): never {
  throw new ConfigValueError(message);
}

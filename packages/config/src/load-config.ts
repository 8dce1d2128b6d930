import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue, ConfigValueError } from './config-error.ts';
import type { EnvVar } from './env-var.ts';

/** A map of setting names to variable declarations. */
export type Schema = Record<string, EnvVar<unknown>>;

/** The typed, frozen object that {@link loadConfig} returns for a schema. */
export type ConfigOf<S extends Schema> = {
  readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never;
};

/** Options for {@link loadConfig}. */
export interface LoadOptions<S extends Schema> {
  /** Reads a `*_FILE` secret; default reads the file as UTF-8. Injectable for tests. */
  readonly readFile?: (path: string) => string;
  /**
   * Cross-variable rules, run only when every variable parsed. Return issues (or an empty list).
   */
  readonly check?: (config: ConfigOf<S>) => readonly ConfigIssue[];
}

/** Environment as `process.env` has it. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Loads every variable of `schema` from `env`, collecting all problems, and returns a frozen
 * object. A secret `X` may come from the file named by `X_FILE` (one trailing newline dropped);
 * setting both is an error, because which one wins would be a guess.
 *
 * @throws {@link ConfigError} listing each bad variable with its reason.
 */
export function loadConfig<S extends Schema>(
  schema: S,
  env: Env,
  options: LoadOptions<S> = {},
): ConfigOf<S> {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};

  for (const [key, spec] of Object.entries(schema)) {
    const source = readRaw(spec, env, readFile, issues);
    if (source === null) continue; // already reported
    const { raw, variable } = source;
    if (raw === undefined) {
      if (spec.presence.kind === 'required') {
        issues.push({ variable: spec.name, message: 'is required but not set' });
      } else {
        out[key] = spec.presence.kind === 'default' ? spec.presence.value : undefined;
      }
      continue;
    }
    try {
      out[key] = spec.parser(raw);
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      issues.push({ variable, message: err.message });
    }
  }

  if (issues.length === 0 && options.check) {
    issues.push(...options.check(out as ConfigOf<S>));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(out) as ConfigOf<S>;
}

function readRaw(
  spec: EnvVar<unknown>,
  env: Env,
  readFile: (path: string) => string,
  issues: ConfigIssue[],
): { raw: string | undefined; variable: string } | null {
  const names = [spec.name, ...spec.aliases];
  const name = names.find((n) => nonEmpty(env[n]) !== undefined) ?? spec.name;
  const direct = nonEmpty(env[name]);
  if (!spec.isSecret) return { raw: direct, variable: name };

  const fileVar = `${spec.name}_FILE`;
  const path = nonEmpty(env[fileVar]);
  if (path === undefined) return { raw: direct, variable: name };
  if (direct !== undefined) {
    issues.push({ variable: fileVar, message: `set together with ${name}; set only one` });
    return null;
  }
  try {
    return { raw: nonEmpty(readFile(path).replace(/\r?\n$/, '')), variable: fileVar };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    issues.push({ variable: fileVar, message: `cannot read file "${path}" (${code})` });
    return null;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

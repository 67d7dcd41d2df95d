// Command-line flags: what every command's parser shares. A UsageError is the user's mistake in
// the command line (exit code 2, "see quantvec --help"); anything else is exit code 1.

export class UsageError extends Error {}

/** `--name`'s integer value, at least `min`; `fallback` when absent. */
export function integerFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** `--name`'s number from `min` to `max`; `fallback` when absent. */
export function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** `--name`'s value, one of `allowed`; undefined when absent. */
export function choiceFlag<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

/** Exactly `count` positional arguments, named in the message (e.g. ["CORPUS"]). */
export function positionalArgs(command: string, positionals: string[], names: readonly string[]): string[] {
  if (positionals.length !== names.length) {
    throw new UsageError(`${command} takes ${names.join(" ")}, got ${positionals.length} argument${positionals.length === 1 ? "" : "s"}${positionals.length > 0 ? ` (${positionals.map((p) => JSON.stringify(p)).join(" ")})` : ""}`);
  }
  return positionals;
}

/** A flag that must be given. */
export function requiredFlag(command: string, name: string, value: string | undefined, what: string): string {
  if (value === undefined || value === "") throw new UsageError(`${command} needs --${name} ${what}`);
  return value;
}

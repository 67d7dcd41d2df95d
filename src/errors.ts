// Helpers for error messages that name the argument, the value seen and what is allowed.

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value !== "object") return typeof value;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `a ${value.constructor.name} of ${length}`;
  }
  return `an object (${value.constructor?.name ?? "null prototype"})`;
}

/** Throws a RangeError unless `value` is an integer in [min, max]. */
export function checkInteger(caller: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${caller}: ${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${caller}: ${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** Throws a TypeError unless `value` is one of `allowed`. */
export function checkChoice<T extends string>(caller: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(
      `${caller}: ${name} must be ${allowed.map((a) => JSON.stringify(a)).join(" | ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

import { InvalidArgumentError } from "commander";

/** A commander parser for a non-negative integer flag. */
export function parseIntOption(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgumentError(`--${name} must be a whole number, got "${value}".`);
    return Number(value);
  };
}

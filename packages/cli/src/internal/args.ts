import { InvalidArgumentError } from 'commander';

/** A commander parser for whole numbers within bounds, with an error that names the bounds. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/** A commander parser for TCP ports. */
export const portNumber = integer(1, 65_534);

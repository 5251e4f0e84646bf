import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integer, portNumber } from './args.ts';

describe('integer', () => {
  it('accepts whole numbers within bounds', () => {
    expect(integer(1, 5)('3')).toBe(3);
    expect(portNumber('9092')).toBe(9092);
  });

  it.each(['0', '6', '2.5', 'three', ''])('rejects %j, naming the bounds', (value) => {
    expect(() => integer(1, 5)(value)).toThrow(InvalidArgumentError);
    expect(() => integer(1, 5)(value)).toThrow('expected a whole number from 1 to 5');
  });
});

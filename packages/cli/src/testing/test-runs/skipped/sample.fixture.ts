import { expect, it } from 'vitest';

// A fixture, never part of Junction's own suite (its config includes *.fixture.ts, the suite's
// *.test.ts): internal/test-run/vitest.test.ts runs this project to prove that `junction test`
// counts a skipped test as a failure. The skip below is the input under test.

it('adds', () => {
  expect(1 + 1).toBe(2);
});

it.skip('is skipped', () => {
  expect(1 + 1).toBe(2);
});

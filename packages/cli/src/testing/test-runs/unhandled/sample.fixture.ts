import { expect, it } from 'vitest';

it('passes, and leaves a timer that throws', () => {
  setTimeout(() => {
    throw new Error('fixture: thrown outside any test');
  }, 1);
  expect(true).toBe(true);
});

it('gives the timer time to fire', async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
});

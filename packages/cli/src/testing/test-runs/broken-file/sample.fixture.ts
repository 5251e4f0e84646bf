import { expect, it } from 'vitest';

/** Stands for a module whose import fails (a missing dependency, a bad top-level statement). */
function load(): void {
  throw new Error('fixture: this file fails while it loads');
}

load();

it('is never defined', () => {
  expect(1).toBe(1);
});

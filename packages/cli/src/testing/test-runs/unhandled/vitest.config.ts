import { defineConfig } from 'vitest/config';

// A fixture project for the verdicts of `junction test` (internal/test-run): its tests pass, but a timer throws outside any test.
export default defineConfig({ test: { include: ['*.fixture.ts'] } });

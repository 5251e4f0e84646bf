import { defineConfig } from 'vitest/config';

// A fixture project for the verdicts of `junction test` (internal/test-run): a file throws while it loads, before any test is defined.
export default defineConfig({ test: { include: ['*.fixture.ts'] } });

import { defineConfig } from 'vitest/config';

// A fixture project for the verdicts of `junction test` (internal/test-run): one test that passes.
export default defineConfig({ test: { include: ['*.fixture.ts'] } });

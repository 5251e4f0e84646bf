import { defineConfig } from 'vitest/config';

// A fixture project for the verdicts of `junction test` (internal/test-run): no file matches its include.
export default defineConfig({ test: { include: ['*.fixture.ts'] } });

import { defineConfig } from 'vitest/config';

// A fixture project for the verdicts of `junction test` (internal/test-run): its global setup throws, as a stack that cannot start does.
export default defineConfig({ test: { include: ['*.fixture.ts'], globalSetup: ['./global-setup.ts'] } });

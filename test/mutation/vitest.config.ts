import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// The unit tests that guard the parts under mutation (`./junction mutate`): no stack, no
// integration tests, one fork per Stryker worker.
const conditions = ['junction-source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: [
      'packages/events/src/subscriber/**/*.test.ts',
      'packages/events/src/backoff.test.ts',
      'packages/observability/src/circuit.test.ts',
      'packages/http/src/rate-limit/bucket.test.ts',
    ],
    exclude: ['**/*.int.test.ts', '**/node_modules/**'],
    pool: 'forks',
    testTimeout: 10_000,
  },
});

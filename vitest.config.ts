import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import each package's TypeScript sources (the `junction-source` export condition), so
// they need no build; the CLI tests run the CLI's sources with Node 24 and the same condition.
const conditions = ['junction-source', ...defaultServerConditions];

const project = (name: string, include: string[]) => ({ extends: true, test: { name, include } });

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      project('observability', ['packages/observability/src/**/*.test.ts']),
      project('events', ['packages/events/src/**/*.test.ts']),
      project('http', ['packages/http/src/**/*.test.ts']),
      project('stack', ['packages/stack/src/**/*.test.ts']),
      project('service', ['packages/service/src/**/*.test.ts']),
      project('cli', ['packages/cli/src/**/*.test.ts']),
      project('services', ['services/*/src/**/*.test.ts']),
      project('e2e', ['test/**/*.test.ts']),
    ],
    // One stack for the whole run (or the one named by JUNCTION_KAFKA_BROKERS and
    // JUNCTION_SCHEMA_REGISTRY_URL); tests that need their own start it themselves.
    globalSetup: ['./test/setup/stack.global.ts'],
    pool: 'forks',
    // Memory-bound tests (backpressure) collect garbage before they measure.
    execArgv: ['--expose-gc'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});

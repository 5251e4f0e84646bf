// StrykerJS over the subscriber's parts, the circuit and the rate-limit bucket: how many of the
// small faults it plants the unit tests notice. `./junction mutate` runs it; CI does not.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  mutate: [
    'packages/events/src/subscriber/lanes.ts',
    'packages/events/src/subscriber/offsets.ts',
    'packages/events/src/subscriber/dead-letter.ts',
    'packages/events/src/subscriber/retry.ts',
    'packages/events/src/subscriber/retry-topics.ts',
    'packages/events/src/subscriber/timeout.ts',
    'packages/events/src/subscriber/deadlines.ts',
    'packages/events/src/subscriber/circuit-breaker.ts',
    'packages/events/src/subscriber/idempotency.ts',
    'packages/events/src/subscriber/decode.ts',
    'packages/events/src/subscriber/after-commit.ts',
    'packages/events/src/subscriber/fetch-gate.ts',
    'packages/events/src/subscriber/retry-due.ts',
    'packages/events/src/subscriber/commits.ts',
    'packages/events/src/subscriber/rebalance.ts',
    'packages/events/src/subscriber/subscriber-options.ts',
    'packages/observability/src/circuit.ts',
    'packages/http/src/rate-limit/bucket.ts',
  ],
  // The sandbox copies the repository but its state (running servers' sockets) and builds.
  ignorePatterns: ['.junction', '**/dist'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 3000,
  thresholds: { high: 90, low: 85, break: 85 },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.junction/mutation/report.html' },
  jsonReporter: { fileName: '.junction/mutation/report.json' },
  tempDirName: '.junction/stryker-tmp',
  cleanTempDir: true,
};

// Jest runs TypeScript as ESM: @swc/jest strips types and keeps `import` (module es6), and
// NODE_OPTIONS=--experimental-vm-modules (set by the Makefile) lets Jest load the ESM-only
// @kubernetes/client-node and jose. Type-checking is `tsc --noEmit`, not the test run's job.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
    ],
  },
};

/** @type {import('jest').Config} */
export default {
  // A ceiling against hangs, not a speed target: process-spawning tests slow down on a loaded
  // 2-core machine. Speed is measured by bench/, never by timeouts.
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{api,sidecar,webhook,hack,bench}/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      // Controllers act asynchronously; waits inside the tests are bounded by eventually().
      setupFilesAfterEnv: ['<rootDir>/test/helpers/integration-timeout.ts'],
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // One real control plane for the whole run; each suite gets its own namespace.
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
};

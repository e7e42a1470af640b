// Integration tests (*.int.spec.ts) against a real Redis and Kafka started by tools/infra.
// Same transform and path aliases as the unit config; one worker, since the tests share the servers.
import type { Config } from 'jest';
import unit from './jest.config';

const config: Config = {
  ...unit,
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/tools/infra/jest.global-setup.ts',
  globalTeardown: '<rootDir>/tools/infra/jest.global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 120_000,
  verbose: true,
};

export default config;

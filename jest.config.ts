import type { Config } from 'jest';
import { readFileSync } from 'node:fs';

interface TsConfig {
  compilerOptions: { paths: Record<string, string[]> };
}
const { compilerOptions } = JSON.parse(readFileSync(`${__dirname}/tsconfig.base.json`, 'utf8')) as TsConfig;

const moduleNameMapper: Record<string, string> = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  if (target) moduleNameMapper[`^${alias.replace(/[/\-@]/g, (c) => `\\${c}`)}$`] = `<rootDir>/${target}`;
}

const swc: [string, Record<string, unknown>] = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const config: Config = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // ESM-only packages are compiled to CommonJS for jest's module system.
  transformIgnorePatterns: ['/node_modules/(?!(flagsmith-nodejs|uuid|p-retry|is-network-error|cockatiel|jsonpath-rfc9535)/)'],
  moduleNameMapper,
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

export default config;

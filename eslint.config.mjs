import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Framework and driver packages that the pure core (domain, projections, engine, contracts,
// application services) must never import. The shell (feature libs, adapters, apps) may.
const frameworkAndDrivers = [
  '@nestjs/*',
  '@eventstore/*',
  '@kurrent/*',
  'ioredis',
  'better-sqlite3',
  'kafkajs',
  'class-validator',
  'class-transformer',
  'express',
  'fastify',
  'pino',
  'prom-client',
  'reflect-metadata',
  'rxjs',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', 'tmp/**', 'data/**', 'coverage/**', '.infra/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:admin', onlyDependOnLibsWithTags: ['scope:admin', 'scope:shared'] },
            { sourceTag: 'scope:evaluation', onlyDependOnLibsWithTags: ['scope:evaluation', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:admin', 'scope:evaluation', 'scope:shared'] },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:feature', 'type:application', 'type:projection', 'type:domain', 'type:data-access', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: ['type:application', 'type:projection', 'type:domain', 'type:data-access', 'type:contracts', 'type:util'],
            },
            {
              sourceTag: 'type:application',
              onlyDependOnLibsWithTags: ['type:domain', 'type:projection', 'type:contracts', 'type:util'],
              bannedExternalImports: frameworkAndDrivers,
            },
            {
              sourceTag: 'type:projection',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: frameworkAndDrivers,
            },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data-access'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: frameworkAndDrivers },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: frameworkAndDrivers },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: frameworkAndDrivers },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/testing.ts', '**/testing/**/*.ts', 'tools/**/*.ts', '**/*.bench.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);

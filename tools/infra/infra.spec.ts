// Unit checks of the integration-test wiring that need no servers. Importing jest.int.config.ts
// here also brings it into the type-checked (and linted) program, which tsconfig.json's include
// list does not cover.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the workspace jest configs are not a project; checking them is this spec's purpose
import intConfig from '../../jest.int.config';
// eslint-disable-next-line @nx/enforce-module-boundaries -- as above
import unitConfig from '../../jest.config';
import { findFreePort, newKafkaClusterId, REPO_ROOT } from './brokers';
import { infraRequired } from './shared-servers';

describe('integration jest config', () => {
  const resolve = (p: string | null | undefined): string => (p ?? '').replace('<rootDir>', REPO_ROOT);

  it('runs only *.int.spec.ts files, which the unit config leaves out', () => {
    expect(intConfig.testMatch).toEqual(['<rootDir>/{apps,libs,tools}/**/*.int.spec.ts']);
    expect(intConfig.testPathIgnorePatterns ?? []).not.toContain('\\.int\\.spec\\.ts$');
    expect(unitConfig.testPathIgnorePatterns).toContain('\\.int\\.spec\\.ts$');
  });

  it('shares the unit config transform and path aliases, with one worker for the shared servers', () => {
    expect(intConfig.transform).toBe(unitConfig.transform);
    expect(intConfig.moduleNameMapper).toBe(unitConfig.moduleNameMapper);
    expect(intConfig.maxWorkers).toBe(1);
  });

  it('points at existing global setup and teardown modules', () => {
    expect(existsSync(resolve(intConfig.globalSetup))).toBe(true);
    expect(existsSync(resolve(intConfig.globalTeardown))).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'tools/infra/install.sh'))).toBe(true);
  });
});

describe('newKafkaClusterId', () => {
  it('is 16 random bytes in unpadded base64url, never starting with "-"', () => {
    for (let i = 0; i < 200; i++) {
      const id = newKafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});

describe('findFreePort', () => {
  it('returns a non-privileged loopback port', async () => {
    const port = await findFreePort();
    expect(port).toBeGreaterThan(1024);
    expect(port).toBeLessThan(65536);
  });
});

describe('infraRequired', () => {
  const saved = { ci: process.env['CI'], require: process.env['FLAGLINE_REQUIRE_INFRA'] };
  afterEach(() => {
    for (const [name, value] of [['CI', saved.ci], ['FLAGLINE_REQUIRE_INFRA', saved.require]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it.each([
    [undefined, undefined, false],
    ['false', undefined, false],
    ['0', undefined, false],
    ['true', undefined, true],
    ['1', undefined, true],
    [undefined, '1', true],
  ])('CI=%s FLAGLINE_REQUIRE_INFRA=%s -> %s', (ci, require, expected) => {
    if (ci === undefined) delete process.env['CI'];
    else process.env['CI'] = ci;
    if (require === undefined) delete process.env['FLAGLINE_REQUIRE_INFRA'];
    else process.env['FLAGLINE_REQUIRE_INFRA'] = require;
    expect(infraRequired()).toBe(expected);
  });
});

// What an operator sees when a service cannot start: one JSON log line (level, time, msg) naming
// the variable to fix or the address it could not reach, exit code 1, and nothing on stderr.
import { findFreePort } from '@flagline/infra-testing';
import { generatedSecret } from '@flagline/observability';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneFatalLine, runEntryProcess, runServiceProcess } from './start-failure.testing';

describe('a service that cannot start', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flagline-start-failures-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names every bad variable, a published placeholder secret among them, in one line', async () => {
    const run = await runServiceProcess('command-service', { EVENT_STORE: 'embedded', DATA_DIR: dir, PORT: 'eighty', ADMIN_API_KEY: 'change-me-at-least-16-characters', INTERNAL_API_TOKEN: 'short' });
    const line = expectOneFatalLine(run);
    expect(line['variable']).toBe('ADMIN_API_KEY');
    expect(line['variables']).toEqual(['ADMIN_API_KEY', 'INTERNAL_API_TOKEN', 'PORT']);
    expect(String(line['msg'])).toMatch(/ADMIN_API_KEY is a published placeholder.*INTERNAL_API_TOKEN must be at least 16 characters.*PORT must be an integer/);
  }, 60_000);

  it('names a variable a rule across variables needs (the evaluation service\'s token)', async () => {
    const run = await runServiceProcess('evaluation-service', { REDIS_URL: 'redis://127.0.0.1:6379', COMMAND_SERVICE_URL: 'http://127.0.0.1:8001' });
    expect(expectOneFatalLine(run)['variable']).toBe('INTERNAL_API_TOKEN');
  }, 60_000);

  it('names an unreachable Redis by its address, without its password', async () => {
    const port = await findFreePort();
    const run = await runServiceProcess('relay', { EVENT_STORE: 'embedded', DATA_DIR: dir, REDIS_URL: `redis://:secret-password@127.0.0.1:${port}`, KAFKA_BROKERS: '127.0.0.1:9' });
    const line = expectOneFatalLine(run);
    expect(line).toEqual(expect.objectContaining({ dependency: 'Redis', address: `redis://127.0.0.1:${port}` }));
    expect(run.stdout).not.toContain('secret-password');
  }, 60_000);

  it.each([
    'apps/command-service/src/main.ts',
    'apps/relay/src/main.ts',
    'apps/projector/src/main.ts',
    'apps/evaluation-service/src/main.ts',
    'tools/distributed/main.ts',
  ])('%s names a LOG_LEVEL pino does not know, with the levels it may be, in one JSON line', async (entry) => {
    const run = await runEntryProcess(entry, { LOG_LEVEL: 'verbose', DATA_DIR: dir });
    const line = expectOneFatalLine(run);
    expect(line['variable']).toBe('LOG_LEVEL');
    expect(String(line['msg'])).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
  }, 60_000);

  it('names an unreachable EventStoreDB by its connection string', async () => {
    const port = await findFreePort();
    const address = `kurrentdb://127.0.0.1:${port}?tls=false`;
    const run = await runServiceProcess('command-service', { EVENTSTORE_CONNECTION_STRING: address, ADMIN_API_KEY: generatedSecret(), INTERNAL_API_TOKEN: generatedSecret() });
    const line = expectOneFatalLine(run);
    expect(line).toEqual(expect.objectContaining({ dependency: 'EventStoreDB', address }));
  }, 60_000);
});

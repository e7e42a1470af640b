import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..', '..');
const script = (...args: string[]) => run(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'rebuild-floor.ts'), ...args], { cwd: root, timeout: 120_000 });

describe('the rebuild floor (rebuild-floor.ts)', () => {
  it('rebuilds a document and the catalog rows of every event it sealed, checks them, and prints its figures as JSON', async () => {
    const { stdout } = await script('--events', '1500', '--rounds', '1', '--json');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^round 1: [\d,]+ events\/s; CPU per event: main [\d.]+ µs, documents [\d.]+ µs, catalog [\d.]+ µs$/);
    const figures = JSON.parse(lines[lines.length - 1] as string) as Record<string, number>;
    expect(figures['events']).toBe(1500);
    for (const key of ['eventsPerSecond', 'mainMicros', 'documentsMicros', 'catalogMicros']) expect(figures[key]).toBeGreaterThan(0);
  }, 120_000);

  it('refuses a count that is not a positive integer', async () => {
    await expect(script('--events', '0')).rejects.toMatchObject({ stderr: expect.stringContaining('--events needs a positive integer') });
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STANDALONE_NODE_OPTIONS } from './node-options';

/** The standalone app's Node options hold wherever it is started: `npm start` and the image's CMD. */
const ROOT = resolve(__dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const MAIN = 'dist/apps/standalone/src/main.js';

/**
 * A process started with the app's options in which a worker churns through about 400 MB of
 * objects, kept in batches long enough to reach the old generation: the old generation's size, in
 * MB, at the worker's first full collection (from `--trace-gc`; the main thread makes none).
 * `reset`: the parent calls `workersWithV8HeapDefaults` first, as main.ts does.
 */
function firstMarkCompactMb(reset: boolean): number {
  const script = `
    const { Worker } = require('node:worker_threads');
    ${reset ? `require(${JSON.stringify(join(__dirname, 'node-options.ts'))}).workersWithV8HeapDefaults();` : ''}
    new Worker(\`
      let kept = [];
      for (let i = 0; i < 4e6; i++) {
        kept.push({ at: i, text: 'x' + i });
        if (kept.length === 200000) kept = [];
      }
    \`, { eval: true });
  `;
  const run = spawnSync(process.execPath, [...STANDALONE_NODE_OPTIONS, '--trace-gc', '-r', '@swc-node/register', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  const first = /Mark-Compact (?:\(reduce\) )?([0-9.]+)/.exec(run.stdout);
  expect(first).not.toBeNull();
  return Number(first?.[1]);
}

describe('the standalone app node options', () => {
  it('are options this Node takes', () => {
    const run = spawnSync(process.execPath, [...STANDALONE_NODE_OPTIONS, '-e', ''], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('are in npm start', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start']).toBe(['node', ...STANDALONE_NODE_OPTIONS, MAIN].join(' '));
  });

  it("are in the image's CMD", () => {
    const cmd = read('apps/standalone/Dockerfile')
      .split('\n')
      .find((line) => line.startsWith('CMD '));
    expect(JSON.parse((cmd ?? '').slice('CMD '.length))).toEqual(['node', ...STANDALONE_NODE_OPTIONS, MAIN]);
  });

  it("leave worker threads started after main.ts resets them on V8's own heap limits", () => {
    // With the floor a worker's old generation fills to about 128 MB before its first full collection.
    expect(firstMarkCompactMb(false)).toBeGreaterThan(120);
    expect(firstMarkCompactMb(true)).toBeLessThan(100);
  }, 60_000);
});

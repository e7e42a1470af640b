import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STANDALONE_NODE_OPTIONS } from './node-options';

/** The standalone app's Node options hold wherever it is started: `npm start` and the image's CMD. */
const ROOT = resolve(__dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const MAIN = 'dist/apps/standalone/src/main.js';

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
});

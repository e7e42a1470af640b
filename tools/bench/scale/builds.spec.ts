import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOptionsOf } from './builds';

describe('startOptionsOf', () => {
  const withStart = (start: string | undefined): string[] => {
    const root = mkdtempSync(join(tmpdir(), 'flagline-builds-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts: start === undefined ? {} : { start } }));
      return startOptionsOf(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it('reads the options between node and the script, in order', () => {
    expect(withStart('node --max-semi-space-size=8 --stack-size=2000 dist/apps/standalone/src/main.js')).toEqual(['--max-semi-space-size=8', '--stack-size=2000']);
  });

  it('gives none to a build started without options, without a start script, or started some other way', () => {
    expect(withStart('node dist/apps/standalone/src/main.js')).toEqual([]);
    expect(withStart(undefined)).toEqual([]);
    expect(withStart('nx serve standalone')).toEqual([]);
  });
});

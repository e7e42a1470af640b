import type * as fsModule from 'node:fs';
import { fsyncSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_IDS_FILE, identityIdsOf } from './sealing';

// fsync counted: what reaches the disk cannot be observed without a crash, the calls that make it durable can.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof fsModule>('node:fs');
  return { ...actual, fsyncSync: jest.fn((fd: number) => actual.fsyncSync(fd)) };
});

describe('the identity id key of a data directory', () => {
  it('is made durable (the file and its directory fsynced) at the first start, mode 0600, and kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagline-ids-'));
    try {
      jest.mocked(fsyncSync).mockClear();
      const ids = await identityIdsOf(dataDir, { headPosition: () => Promise.resolve(0) });
      expect(jest.mocked(fsyncSync)).toHaveBeenCalledTimes(process.platform === 'win32' ? 1 : 2);
      const path = join(dataDir, IDENTITY_IDS_FILE);
      expect(readFileSync(path, 'utf8')).toMatch(/^hmac-sha256:[A-Za-z0-9+/]{43}=\n$/);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const again = await identityIdsOf(dataDir, { headPosition: () => Promise.resolve(5) });
      expect(again(1, 'ada')).toBe(ids(1, 'ada'));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

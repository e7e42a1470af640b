import type * as fsModule from 'node:fs';
import { fsyncSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey, SIGNING_KEY_FILE_NAME } from './signing-key';

// fsync counted: what reaches the disk cannot be observed without a crash, the calls that make it durable can.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof fsModule>('node:fs');
  return { ...actual, fsyncSync: jest.fn((fd: number) => actual.fsyncSync(fd)) };
});

describe('a generated signing key', () => {
  it('is durable (the file and its directory fsynced) before it is used, and read back as it was', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagline-signing-'));
    try {
      jest.mocked(fsyncSync).mockClear();
      const generated = loadSigningKey({ dataDir });
      expect(generated).toMatchObject({ generated: true, from: join(dataDir, SIGNING_KEY_FILE_NAME) });
      expect(jest.mocked(fsyncSync)).toHaveBeenCalledTimes(process.platform === 'win32' ? 1 : 2);
      const again = loadSigningKey({ dataDir });
      expect(again.generated).toBe(false);
      expect(again.key.export({ format: 'pem', type: 'pkcs8' })).toEqual(generated.key.export({ format: 'pem', type: 'pkcs8' }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

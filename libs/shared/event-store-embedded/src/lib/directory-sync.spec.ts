import type * as fsModule from 'node:fs';
import { fsyncSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNewFileDurably } from './directory-sync';

// fsync counted: what reaches the disk cannot be observed without a crash, the calls that make it durable can.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof fsModule>('node:fs');
  return { ...actual, fsyncSync: jest.fn((fd: number) => actual.fsyncSync(fd)) };
});

describe('writeNewFileDurably', () => {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-durable-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a new file with the mode asked for, fsyncs it and then its directory, and refuses one that exists', () => {
    const fsyncs = jest.mocked(fsyncSync);
    fsyncs.mockClear();
    const path = join(directory, 'secret');
    const previous = process.umask(0o022);
    try {
      writeNewFileDurably(path, 'hmac-sha256:abc\n', 0o600);
    } finally {
      process.umask(previous);
    }
    expect(readFileSync(path, 'utf8')).toBe('hmac-sha256:abc\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // The file's bytes, then its name in the directory (a file's fsync does not cover its name).
    expect(fsyncs).toHaveBeenCalledTimes(process.platform === 'win32' ? 1 : 2);
    expect(() => writeNewFileDurably(path, 'other')).toThrow(/EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('hmac-sha256:abc\n');
  });
});

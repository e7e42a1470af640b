import type { JSONPathQuery } from 'json-p3';
import { compileJsonPath, recordKeyOrder } from './ordered-json-path';

type JsonDocument = Parameters<JSONPathQuery['query']>[0];

describe('ordered JSONPath environment', () => {
  const values = (path: string, document: Record<string, unknown>): unknown[] => compileJsonPath(path).query(document as JsonDocument).values();

  it('given an object with a recorded key order when a wildcard lists it then its members come in that order', () => {
    const segments: Record<string, unknown> = { a: { enabled: false }, '7': { enabled: true } };
    recordKeyOrder(segments, ['a', '7']);

    expect(values('$.segments.*.enabled', { segments })).toEqual([false, true]);
    expect(values('$..enabled', { segments })).toEqual([false, true]);
    expect(values('$.segments[?@.enabled == true]', { segments })).toEqual([{ enabled: true }]);
  });

  it('given an object without a recorded order when a wildcard lists it then JS order applies (integer-like keys first)', () => {
    const segments = { a: { enabled: false }, '7': { enabled: true } };

    expect(values('$.segments.*.enabled', { segments })).toEqual([true, false]);
  });

  it('given a live key order when a member is added then later listings include it in place', () => {
    const flags: Record<string, unknown> = {};
    const names: string[] = [];
    recordKeyOrder(flags, names);
    flags['zeta'] = 1;
    names.push('zeta');

    expect(values('$.flags.*', { flags })).toEqual([1]);

    flags['42'] = 2;
    names.push('42');

    expect(values('$.flags.*', { flags })).toEqual([1, 2]);
  });
});

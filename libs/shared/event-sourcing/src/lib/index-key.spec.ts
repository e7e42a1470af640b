import { indexKeyOf } from './index-key';

describe('indexKeyOf', () => {
  it('gives the same safe integer for the same text, and different ones for texts that differ slightly', () => {
    const name = 'identity-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    expect(indexKeyOf(name)).toBe(indexKeyOf(`${name}`));
    expect(Number.isSafeInteger(indexKeyOf(name))).toBe(true);
    const keys = new Set<number>();
    for (let n = 0; n < 100_000; n++) keys.add(indexKeyOf(`stream-${n}`));
    expect(keys.size).toBe(100_000);
    expect(indexKeyOf('')).not.toBe(indexKeyOf('\u0000'));
  });

  it('is cyrb53, stable across versions: keys are stored in index files', () => {
    // cyrb53's published value for "a" (seed 0). Changing the function changes every stored key:
    // the layout versions of the files holding them would have to change with it.
    expect(indexKeyOf('a')).toBe(7929297801672961);
  });
});

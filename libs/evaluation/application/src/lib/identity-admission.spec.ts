import { ADMIT_AT, admits, FrequencySketch, identityPrint, keyPrint } from './identity-admission';

describe('identity fingerprints', () => {
  it('gives a cache key the fingerprint of its environment id and identifier, and tells identities apart', () => {
    for (const [environmentId, identifier] of [
      [1, 'ada'],
      [42, ''],
      [1234567, 'ñ "quoted" 😀'],
      [7, 'a\u0000b'],
    ] as const) {
      expect(keyPrint(`${environmentId}\u0000${identifier}`)).toBe(identityPrint(environmentId, identifier));
    }
    expect(identityPrint(1, 'ada')).not.toBe(identityPrint(2, 'ada'));
    expect(identityPrint(1, 'ada')).not.toBe(identityPrint(1, 'adb'));
    expect(identityPrint(1, 'ada')).toBeGreaterThan(0);
  });
});

describe('FrequencySketch', () => {
  it('counts reads of each fingerprint, up to 15, without counting others', () => {
    const sketch = new FrequencySketch(1_000);
    const ada = identityPrint(1, 'ada');
    for (let read = 1; read <= 5; read++) {
      sketch.increment(ada);
      expect(sketch.frequency(ada)).toBe(read);
    }
    expect(sketch.frequency(identityPrint(1, 'grace'))).toBe(0);
    for (let read = 0; read < 40; read++) sketch.increment(ada);
    expect(sketch.frequency(ada)).toBe(15);
  });

  it('halves every count once ten times its capacity in reads were counted, so old reads fade', () => {
    const sketch = new FrequencySketch(100);
    const ada = identityPrint(1, 'ada');
    const visitor = identityPrint(1, 'visitor');
    for (let read = 0; read < 8; read++) sketch.increment(ada);
    // 99 others read 10 times each and one once more: the sketch's 1,000th read halves every counter.
    for (let index = 0; index < 99; index++) for (let read = 0; read < 10; read++) sketch.increment(identityPrint(1, `visitor-${index}`));
    sketch.increment(visitor);
    expect(sketch.frequency(ada)).toBe(8);
    expect(sketch.frequency(visitor)).toBe(1);
    sketch.increment(visitor);
    expect(sketch.frequency(ada)).toBe(4);
    expect(sketch.frequency(visitor)).toBe(1);
    expect(sketch.frequency(identityPrint(1, 'visitor-3'))).toBe(5);
  });
});

describe('admits', () => {
  it(`admits an identity read ${ADMIT_AT} times lately, and into a full cache only one read more often than the one it would drop`, () => {
    const sketch = new FrequencySketch(1_000);
    const ada = identityPrint(1, 'ada');
    const hot = identityPrint(1, 'hot');
    let victimAsked = 0;
    const room = (): undefined => {
      victimAsked++;
      return undefined;
    };
    for (let read = 1; read < ADMIT_AT; read++) {
      sketch.increment(ada);
      expect(admits(sketch, ada, room)).toBe(false);
    }
    // Below the threshold the cache is not even asked what it would drop.
    expect(victimAsked).toBe(0);
    sketch.increment(ada);
    expect(admits(sketch, ada, room)).toBe(true);
    for (let read = 0; read < ADMIT_AT + 2; read++) sketch.increment(hot);
    // The cache full: ada does not displace an identity read more often, nor one read as often.
    expect(admits(sketch, ada, () => hot)).toBe(false);
    expect(admits(sketch, ada, () => ada)).toBe(false);
    expect(admits(sketch, hot, () => ada)).toBe(true);
  });
});

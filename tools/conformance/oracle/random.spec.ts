import { Random } from './random';

describe('Random', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, ((random) => () => random.next())(new Random(seed)));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draws integers over the whole inclusive range, and nothing outside it', () => {
    const random = new Random(1);
    const seen = new Set<number>();
    for (let draw = 0; draw < 2000; draw += 1) seen.add(random.int(-2, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
  });

  it('samples distinct items and refuses to pick from nothing', () => {
    const random = new Random(3);
    const sample = random.sample(['a', 'b', 'c', 'd'], 3);
    expect(new Set(sample).size).toBe(3);
    expect(random.sample(['a'], 5)).toEqual(['a']);
    expect(() => random.pick([])).toThrow(RangeError);
  });
});

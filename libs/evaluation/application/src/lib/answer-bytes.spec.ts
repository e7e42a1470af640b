import { AnswerSlab, joinedBytes } from './answer-bytes';

const own = (length: number): Buffer => Buffer.allocUnsafeSlow(length);

describe('joinedBytes', () => {
  it('is the head, the fragments separated by commas, and the tail, in UTF-8', () => {
    const fragments = [Buffer.from('{"a":"für"}'), Buffer.from('{"b":"☂"}'), Buffer.from('{"c":"𝄞"}')];
    const body = joinedBytes('{"identifier":"zoë","flags":[', fragments, '],"traits":[{"trait_key":"ß","trait_value":"☃"}]}', own);
    expect(body.toString('utf8')).toBe('{"identifier":"zoë","flags":[{"a":"für"},{"b":"☂"},{"c":"𝄞"}],"traits":[{"trait_key":"ß","trait_value":"☃"}]}');
    expect(body.length).toBe(Buffer.byteLength(body.toString('utf8')));
  });

  it('writes no comma for one fragment or none', () => {
    expect(joinedBytes('[', [Buffer.from('1')], ']', own).toString()).toBe('[1]');
    expect(joinedBytes('[', [], ']', own).toString()).toBe('[]');
  });

  it('joins only the first `count` fragments of a longer array', () => {
    const fragments = [Buffer.from('1'), Buffer.from('2'), Buffer.from('3')];
    expect(joinedBytes('[', fragments, ']', own, 2).toString()).toBe('[1,2]');
    expect(joinedBytes('[', fragments, ']', own, 0).toString()).toBe('[]');
  });

  it('fills exactly the memory it is given', () => {
    const lengths: number[] = [];
    const body = joinedBytes('ab', [Buffer.from('cd'), Buffer.from('e')], 'f', (length) => {
      lengths.push(length);
      return Buffer.alloc(length, 0x2a);
    });
    expect(lengths).toEqual([7]);
    expect(body.toString()).toBe('abcd,ef');
  });
});

describe('AnswerSlab', () => {
  it('cuts answers that do not overlap, and keeps each as written while later ones are cut', () => {
    const slab = new AnswerSlab();
    const answers: Buffer[] = [];
    // Enough 5 KiB answers to fill several slabs.
    for (let index = 0; index < 200; index++) {
      const answer = slab.take(5_000 + (index % 7));
      answer.fill(index % 251);
      answers.push(answer);
    }
    answers.forEach((answer, index) => {
      expect(answer.length).toBe(5_000 + (index % 7));
      expect(answer.every((byte) => byte === index % 251)).toBe(true);
    });
    // Answers cut one after another from one slab share its memory, 8-aligned.
    expect(answers[1]?.buffer).toBe(answers[0]?.buffer);
    expect(answers[1]?.byteOffset).toBe(5_000);
    expect(answers[2]?.byteOffset).toBe(10_008);
    // A full slab is left to its answers, and a new one is cut from.
    expect(new Set(answers.map((answer) => answer.buffer)).size).toBeGreaterThan(1);
  });

  it('gives a large answer memory of its own', () => {
    const slab = new AnswerSlab();
    const small = slab.take(100);
    const large = slab.take(64 * 1024);
    expect(large.length).toBe(64 * 1024);
    expect(large.buffer).not.toBe(small.buffer);
    expect(large.buffer.byteLength).toBe(64 * 1024);
  });
});

import { createHash } from 'node:crypto';
import { hashedPercentageForIds, hashedPercentageForPair } from './hashing';

/** The bucketing formula written directly with BigInt, as an independent reference. */
function referencePercentage(text: string): number {
  const h = BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex')}`);
  return (Number(h % 9999n) / 9998) * 100;
}

describe('hashed percentage', () => {
  describe('given the documented examples', () => {
    it('when ["78986", "test_env_foobar"] is hashed then it is 54.5309…', () => {
      expect(hashedPercentageForIds(['78986', 'test_env_foobar'])).toBe(54.53090618123625);
    });

    it('when ["12345", "test_env_foobar"] is hashed then it is 51.9903…', () => {
      expect(hashedPercentageForPair('12345', 'test_env_foobar')).toBe(51.990398079615915);
    });
  });

  describe('given ids whose first hash is exactly 100', () => {
    it('when hashed then the list is repeated once more and hashed again', () => {
      expect(referencePercentage('edge,2401')).toBe(100);

      expect(hashedPercentageForIds(['edge', '2401'])).toBe(referencePercentage('edge,2401,edge,2401'));
      expect(hashedPercentageForPair('edge', '2401')).toBe(80.126025205041);
      expect(hashedPercentageForPair('edge', '14122')).toBe(30.03600720144029);
    });
  });

  describe('given ASCII texts of every length from 0 to 130 characters (one to three MD5 blocks)', () => {
    it('when hashed then each equals the BigInt formula over node:crypto MD5', () => {
      let seed = 7;
      const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let length = 0; length <= 130; length += 1) {
        for (let sample = 0; sample < 20; sample += 1) {
          const text = Array.from({ length }, () => String.fromCharCode(32 + (next() % 95))).join('');
          const [first, ...rest] = text.split(',');
          const expected = referencePercentage(text);
          // The pair form hashes `first,second`; a text that hashes to exactly 100 is hashed again, as the spec above shows.
          if (rest.length === 1 && expected !== 100) expect({ text, value: hashedPercentageForPair(first ?? '', rest[0] ?? '') }).toStrictEqual({ text, value: expected });
          if (expected !== 100) expect({ text, value: hashedPercentageForIds([text]) }).toStrictEqual({ text, value: expected });
        }
      }
    });
  });

  describe('given pairs whose joined text is 1 to 70 characters (one MD5 block up to 55 bytes, two after), ASCII from NUL to DEL and not', () => {
    it('when hashed as a pair then each equals the BigInt formula over node:crypto MD5', () => {
      let seed = 11;
      const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      // Every ASCII code unit (0x00 and 0x7f included), and characters just past ASCII and far past it.
      const alphabets = [Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)), ['a', '0', '\u0080', 'é', '中', '😀']];
      for (let total = 1; total <= 70; total += 1) {
        for (const alphabet of alphabets) {
          for (let sample = 0; sample < 12; sample += 1) {
            // Cut between characters, never inside a surrogate pair (a lone surrogate is refused at the HTTP edge).
            const characters = Array.from({ length: total - 1 }, () => alphabet[next() % alphabet.length] as string);
            const cut = next() % total;
            const first = characters.slice(0, cut).join('');
            const second = characters.slice(cut).join('');
            const expected = referencePercentage(`${first},${second}`);
            const value = expected === 100 ? referencePercentage(`${first},${second},${first},${second}`) : expected;
            expect({ first, second, value: hashedPercentageForPair(first, second) }).toStrictEqual({ first, second, value });
          }
        }
      }
    });
  });

  describe('given one identity key hashed with several keys in a row, as an evaluation does, then a shorter one', () => {
    it('when each pair is hashed then it equals the BigInt formula (the second id\'s characters, read once, are not stale)', () => {
      const firsts = ['7', '12345', 'é', 'segment-with-a-longer-key', ''];
      for (const second of ['env_key_visitor-000123', 'env_key_v-9', 'env_key_visitor-000123', 'é_ascii', 'a']) {
        for (const first of firsts) {
          const expected = referencePercentage(`${first},${second}`);
          const value = expected === 100 ? referencePercentage(`${first},${second},${first},${second}`) : expected;
          expect({ first, second, value: hashedPercentageForPair(first, second) }).toStrictEqual({ first, second, value });
        }
      }
    });
  });

  describe('given arbitrary ids', () => {
    it('when hashed then the result equals the BigInt formula and stays in [0, 100)', () => {
      for (let index = 0; index < 500; index += 1) {
        const value = hashedPercentageForPair(`segment-${index}`, `identité-${index * 7}`);

        expect(value).toBe(referencePercentage(`segment-${index},identité-${index * 7}`));
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(100);
      }
    });
  });
});

describe('hashing against node:crypto MD5', () => {
  it('gives the same percentage as a digest from node:crypto, for ASCII and non-ASCII text', () => {
    const reference = (text: string): number => {
      const value = BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex')}`);
      return (Number(value % 9999n) / 9998) * 100;
    };
    for (const [first, second] of [['78986', 'test_env_foobar'], ['zoë', 'ünïcödé_😀'], ['中文', '键'], ['1', '']]) {
      expect(hashedPercentageForPair(first as string, second as string)).toBeCloseTo(reference(`${first},${second}`), 12);
    }
  });
});

import { FloatNumber } from './float-number';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';

const CASE = `{
  // Given: a commented case
  "context": {
    "environment": {"key": "env", "name": "Env"},
    "identity": {"identifier": "u", "key": "k", "traits": {"price": 2.0, "count": 2, "big": 12345678901234567890}},
    "features": {"f": {"key": "1", "name": "f", "enabled": true, "value": 2.0,
      "variants": [{"key": "all", "value": "v", "weight": 100.0, "priority": 1}]}},
    "segments": {
      "381942": {"key": "381942", "name": "late", "rules": [{"type": "ALL", "conditions": [
        {"property": "price", "operator": "LESS_THAN", "value": "2.1"}]}]},
      "4267": {"key": "4267", "name": "early", "rules": [{"type": "ALL", "conditions": [
        {"property": "big", "operator": "EQUAL", "value": "12345678901234567890"}]}]}
    }
  },
  "result": {"flags": {}, "segments": []}
}`;

describe('golden case reader', () => {
  describe('given a JSONC case', () => {
    const golden = readGoldenCase(CASE);

    it('when read then the written order of integer-like segment keys is kept', () => {
      expect(golden.order.segments).toEqual(['381942', '4267']);
      expect(golden.order.features).toEqual(['f']);
    });

    it('when read then float-written trait values and weights stay floats and big ints stay exact', () => {
      const traits = golden.context.identity?.traits ?? {};

      expect(traits['price']).toBeInstanceOf(FloatNumber);
      expect(traits['count']).toBe(2);
      expect(traits['big']).toBe(12345678901234567890n);
      expect(golden.context.features?.['f']?.variants?.[0]?.weight).toBeInstanceOf(FloatNumber);
      expect(golden.context.features?.['f']?.value).toBe(2);
    });

    it('when evaluated then Python typing applies: 2.0 < 2.1, exact big ints, and a float weight prints as 100.0', () => {
      const result = getEvaluationResult(golden.context, golden.order);

      expect(result.segments).toEqual([{ name: 'late' }, { name: 'early' }]);
      expect(result.flags['f']?.reason).toBe('SPLIT; weight=100.0');
    });
  });

  describe('given a document without a result', () => {
    it('when read then it is rejected', () => {
      expect(() => readGoldenCase('{"context": {}}')).toThrow('"result"');
    });
  });

  describe('given malformed JSONC', () => {
    it('when read then it is rejected', () => {
      expect(() => readGoldenCase('{"context": ')).toThrow('invalid JSONC');
    });
  });
});

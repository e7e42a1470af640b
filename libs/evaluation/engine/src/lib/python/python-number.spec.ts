import { comparePyInts, pyFloat, pyFloatModulo, pyFloatRepr, pyInt, pyIntToString } from './python-number';

describe('Python number semantics', () => {
  describe('given a condition value cast with int()', () => {
    it.each([
      [' 7', '7'],
      ['7 ', '7'],
      ['+7', '7'],
      ['-7', '-7'],
      ['007', '7'],
      ['1_000', '1000'],
      [' -3 ', '-3'],
      ['\u20037', '7'],
      ['٧', '7'],
      ['-0', '0'],
      ['12345678901234567890', '12345678901234567890'],
    ])('when %j is parsed then it is the int %s', (text, expected) => {
      const value = pyInt(text);

      expect(value === undefined ? undefined : pyIntToString(value)).toBe(expected);
    });

    it.each(['1__0', '_1', '1_', '1.0', 'abc', 'true', '', '1e3', '0x10'])('when %j is parsed then Python raises', (text) => {
      expect(pyInt(text)).toBeUndefined();
    });

    it('when the value is a JSON boolean or float then it converts like int(True) and int(5.7)', () => {
      expect(pyInt(true)).toBe(1);
      expect(pyInt(5.7)).toBe(5);
      expect(pyInt(null)).toBeUndefined();
    });

    it('when an int exceeds the safe range then it is kept exact as a bigint', () => {
      expect(pyInt('12345678901234567890')).toBe(12345678901234567890n);
      expect(comparePyInts(12345678901234567890n, 12345678901234567891n)).toBe(-1);
      expect(comparePyInts(3, 12345678901234567890n)).toBe(-1);
    });
  });

  describe('given a condition value cast with float()', () => {
    it.each([
      ['1e3', 1000],
      ['1.5', 1.5],
      [' 2 ', 2],
      ['inf', Infinity],
      ['-Infinity', -Infinity],
      ['1_0.5', 10.5],
      ['.5', 0.5],
      ['5.', 5],
      ['+.5e-2', 0.005],
      ['٣.٥', 3.5],
      ['1E400', Infinity],
    ])('when %j is parsed then it is %d', (text, expected) => {
      expect(pyFloat(text)).toBe(expected);
    });

    it('when "nan" is parsed then it is NaN', () => {
      expect(pyFloat('nan')).toBeNaN();
    });

    it.each(['1._5', '1e', 'abc', ''])('when %j is parsed then Python raises', (text) => {
      expect(pyFloat(text)).toBeUndefined();
    });
  });

  describe('given a float printed with str()', () => {
    it.each([
      [1, '1.0'],
      [0.1, '0.1'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1.5e-7, '1.5e-07'],
      [123456789.123, '123456789.123'],
      [-0, '-0.0'],
      [1e22, '1e+22'],
      [2.5e20, '2.5e+20'],
      [54.54, '54.54'],
      [Infinity, 'inf'],
      [Number.NaN, 'nan'],
    ])('when %d is printed then it reads %s', (value, expected) => {
      expect(pyFloatRepr(value)).toBe(expected);
    });
  });

  describe('given a float modulo', () => {
    it.each([
      [-1, 3, 2],
      [1, -3, -2],
      [5.5, 2, 1.5],
      [-5.5, 2, 0.5],
    ])('when %d %% %d is taken then the result has the sign of the divisor: %d', (dividend, divisor, expected) => {
      expect(pyFloatModulo(dividend, divisor)).toBe(expected);
    });

    it('when the result is zero then it is signed like the divisor', () => {
      expect(Object.is(pyFloatModulo(0, -2), -0)).toBe(true);
    });
  });

  describe('given an int printed with str()', () => {
    it('when it is beyond 1e21 then it is still printed in full', () => {
      expect(pyIntToString(1e21)).toBe('1000000000000000000000');
    });
  });
});

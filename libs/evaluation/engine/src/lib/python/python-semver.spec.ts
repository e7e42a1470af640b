import { compareSemVer, parseSemVer } from './python-semver';

function compare(left: string, right: string): number | undefined {
  const a = parseSemVer(left);
  const b = parseSemVer(right);
  return a && b ? compareSemVer(a, b) : undefined;
}

describe('python-semver strict versions', () => {
  describe('given version texts', () => {
    it.each(['1.2.3', '0.0.0', '1.2.3-alpha.1', '1.2.3+build.5', '1.2.3-rc.1+build', '10.20.30', '1.2.3\n'])('when %j is parsed then it is a version', (text) => {
      expect(parseSemVer(text)).toBeDefined();
    });

    it.each(['v1.2.3', '=1.2.3', '1.2', '01.2.3', '1.2.3-01', '1.2.3 ', ' 1.2.3', '1.2.3-', '1.2.3+', 'a.b.c'])(
      'when %j is parsed then it is rejected',
      (text) => {
        expect(parseSemVer(text)).toBeUndefined();
      },
    );
  });

  describe('given two versions', () => {
    it.each([
      ['1.0.0', '2.0.0', -1],
      ['2.0.0', '2.1.0', -1],
      ['2.1.1', '2.1.0', 1],
      ['1.0.0-alpha', '1.0.0', -1],
      ['1.0.0-alpha', '1.0.0-alpha.1', -1],
      ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
      ['1.0.0-beta.2', '1.0.0-beta.11', -1],
      ['1.0.0-rc.1', '1.0.0', -1],
      ['1.0.0+build.1', '1.0.0+build.2', 0],
      ['99999999999999999999.0.0', '99999999999999999998.0.0', 1],
    ])('when %s is compared with %s then the order is %d', (left, right, expected) => {
      expect(compare(left, right)).toBe(expected);
    });
  });
});

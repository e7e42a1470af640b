import { escapeRedisGlob, literalPrefixPattern } from './redis-glob.codec';

describe('Redis glob codec', () => {
  it('escapes every character a glob interprets', () => {
    expect(escapeRedisGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
  });

  it('leaves other characters, including ^ and -, as they are', () => {
    expect(escapeRedisGlob('identity:7:ada-^{env}ö')).toBe('identity:7:ada-^{env}ö');
  });

  it('matches a literal prefix followed by anything', () => {
    expect(literalPrefixPattern('flagline:rm:v1:doc:identity:7:')).toBe('flagline:rm:v1:doc:identity:7:*');
    expect(literalPrefixPattern('identity:7*')).toBe('identity:7\\**');
  });
});

import { ConfigError, EnvReader } from './service-config';

describe('EnvReader', () => {
  it('reads values with fallbacks', () => {
    const env = new EnvReader({ PORT: '9000', REDIS_URL: 'redis://127.0.0.1:6379', KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(env.integer('PORT', 8000, 0, 65535)).toBe(9000);
    expect(env.url('REDIS_URL', ['redis', 'rediss'])).toBe('redis://127.0.0.1:6379');
    expect(env.hostPorts('KAFKA_BROKERS')).toEqual(['a:9092', 'b:9093']);
    expect(env.string('MISSING', 'default')).toBe('default');
    expect(() => env.done()).not.toThrow();
  });

  it('reports every problem at once, naming each variable', () => {
    const env = new EnvReader({ PORT: 'eighty', REDIS_URL: 'http://x', KAFKA_BROKERS: 'nohost' });
    env.integer('PORT', 8000, 0, 65535);
    env.url('REDIS_URL', ['redis', 'rediss']);
    env.hostPorts('KAFKA_BROKERS');
    env.string('EVENTSTORE_CONNECTION_STRING');
    let error: unknown;
    try {
      env.done();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT.*REDIS_URL.*KAFKA_BROKERS.*EVENTSTORE_CONNECTION_STRING/s);
  });
});

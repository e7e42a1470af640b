import { ConfigError, EnvReader, generatedSecret, PLACEHOLDER_SECRETS, readKafkaTopicSettings, secretProblem } from './service-config';

/** The problems an EnvReader found, as its done() reports them (none: an empty list). */
function problemsOf(read: EnvReader): readonly string[] {
  try {
    read.done();
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
}

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

describe('EnvReader addresses', () => {
  const password = 'Pw-9f2Kq7ZxLm';

  it('quotes a URL of the wrong scheme or an unparseable one without its credentials', () => {
    const read = new EnvReader({ REDIS_URL: `http://user:${password}@redis:6379`, OTHER_URL: `redis://user:${password}@[oops` });
    read.url('REDIS_URL', ['redis', 'rediss']);
    read.url('OTHER_URL', ['redis']);
    const problems = problemsOf(read);
    expect(problems).toEqual(['REDIS_URL must use redis or rediss, got "http://redis:6379"', 'OTHER_URL is not a valid URL: "redis://[oops"']);
    expect(problems.join('\n')).not.toContain(password);
  });

  it('takes a connection string its parser accepts and quotes a refused one without its credentials', () => {
    const parser = (value: string): string | undefined => (value.includes('bad') ? 'expected host at position 9' : undefined);
    const accepted = new EnvReader({ C: `kurrentdb://admin:${password}@n1:2113,n2:2113?tls=true` });
    expect(accepted.connectionString('C', parser)).toBe(`kurrentdb://admin:${password}@n1:2113,n2:2113?tls=true`);
    expect(problemsOf(accepted)).toEqual([]);
    const refused = new EnvReader({ C: `kurrentdb://admin:${password}@bad` });
    refused.connectionString('C', parser);
    expect(problemsOf(refused)).toEqual(['C is not a valid connection string (expected host at position 9): "kurrentdb://bad"']);
  });
});

describe('EnvReader secrets', () => {

  it('accepts a generated secret', () => {
    const key = generatedSecret();
    const read = new EnvReader({ ADMIN_API_KEY: key });
    expect(read.secret('ADMIN_API_KEY')).toBe(key);
    expect(problemsOf(read)).toEqual([]);
  });

  it.each(PLACEHOLDER_SECRETS)('refuses the published placeholder %s, naming the variable', (placeholder) => {
    const read = new EnvReader({ INTERNAL_API_TOKEN: placeholder });
    read.secret('INTERNAL_API_TOKEN');
    expect(problemsOf(read)).toEqual([expect.stringMatching(/^INTERNAL_API_TOKEN is a published placeholder/)]);
  });

  it('refuses a placeholder-looking value and a short one', () => {
    expect(secretProblem('ADMIN_API_KEY', 'please-CHANGE_ME-before-production')).toMatch(/placeholder/);
    expect(secretProblem('ADMIN_API_KEY', 'short-key')).toBe('ADMIN_API_KEY must be at least 16 characters');
  });

  it.each(['aaaaaaaaaaaaaaaa', 'abababababababababababab', '0123012301230123', 'abcdefghiabcdefghi', 'aabbccddeeffgghh'])('refuses the weak %s, naming the variable', (weak) => {
    expect(secretProblem('ADMIN_API_KEY', weak)).toMatch(/^ADMIN_API_KEY is too weak/);
  });

  it('accepts 16 characters with 10 different ones that repeat no pattern', () => {
    expect(secretProblem('ADMIN_API_KEY', 'k3Q9-vLm2Xz8Rt0p')).toBeUndefined();
  });

  it('requires a secret unless optional', () => {
    const read = new EnvReader({});
    expect(read.secret('INTERNAL_API_TOKEN', { optional: true })).toBeUndefined();
    expect(problemsOf(read)).toEqual([]);
    read.secret('ADMIN_API_KEY');
    expect(problemsOf(read)).toEqual(['ADMIN_API_KEY is required']);
  });
});

describe('ConfigError', () => {
  it('names the variables its problems start with, once each', () => {
    const error = new ConfigError(['PORT must be an integer', 'KAFKA_BROKERS is required', 'PORT again', 'something without a name']);
    expect(error.variables).toEqual(['PORT', 'KAFKA_BROKERS']);
  });
});

describe('readKafkaTopicSettings', () => {
  it('defaults to 6 partitions, the broker default replication and creating the topics', () => {
    const read = new EnvReader({});
    expect(readKafkaTopicSettings(read)).toEqual({ partitions: 6, createTopics: true });
  });

  it('reads the replication factor and whether to create topics', () => {
    const read = new EnvReader({ KAFKA_PARTITIONS: '12', KAFKA_REPLICATION_FACTOR: '3', KAFKA_CREATE_TOPICS: 'false' });
    expect(readKafkaTopicSettings(read)).toEqual({ partitions: 12, replicationFactor: 3, createTopics: false });
  });

  it('names each bad variable', () => {
    const read = new EnvReader({ KAFKA_REPLICATION_FACTOR: '0', KAFKA_CREATE_TOPICS: 'maybe' });
    readKafkaTopicSettings(read);
    expect(() => read.done()).toThrow(ConfigError);
    try {
      read.done();
    } catch (error) {
      expect((error as ConfigError).variables).toEqual(['KAFKA_REPLICATION_FACTOR', 'KAFKA_CREATE_TOPICS']);
    }
  });
});

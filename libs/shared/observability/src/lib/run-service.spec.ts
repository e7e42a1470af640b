import { ConfigError } from './service-config';
import { DependencyUnreachableError, loggableAddress, reach, startFailureFields } from './run-service';

describe('start-up failures', () => {
  it('leave user name and password out of an address', () => {
    expect(loggableAddress('redis://:hunter2hunter2@redis.internal:6379')).toBe('redis://redis.internal:6379');
    expect(loggableAddress('kurrentdb://admin:changeit@esdb.internal:2113?tls=false')).toBe('kurrentdb://esdb.internal:2113?tls=false');
    expect(loggableAddress('kafka-0:9092,kafka-1:9092')).toBe('kafka-0:9092,kafka-1:9092');
  });

  it('name the dependency and its address when a step needing it fails', async () => {
    const failure = reach('Kafka', 'kafka-0:9092', () => Promise.reject(new Error('Connection error: connect ECONNREFUSED')));
    await expect(failure).rejects.toBeInstanceOf(DependencyUnreachableError);
    const error = await failure.catch((caught: unknown) => caught);
    expect(startFailureFields(error)).toEqual({ dependency: 'Kafka', address: 'kafka-0:9092', reason: 'Connection error: connect ECONNREFUSED' });
  });

  it('pass a step that succeeds through', async () => {
    await expect(reach('Redis', 'redis://x:6379', () => Promise.resolve('PONG'))).resolves.toBe('PONG');
  });

  it('name the variables of a configuration error', () => {
    expect(startFailureFields(new ConfigError(['PORT must be an integer from 0 to 65535, got "x"', 'REDIS_URL is required']))).toEqual({
      variable: 'PORT',
      variables: ['PORT', 'REDIS_URL'],
      problems: ['PORT must be an integer from 0 to 65535, got "x"', 'REDIS_URL is required'],
    });
  });
});

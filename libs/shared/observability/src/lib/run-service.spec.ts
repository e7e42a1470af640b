import { ConfigError, loggableAddress } from './service-config';
import { DependencyUnreachableError, reach, startFailureFields } from './run-service';

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

  it('never carry the password of an address, parseable or not, nor of a copy of it in the reason', async () => {
    const password = 'Pw-9f2Kq7ZxLm';
    const addresses = [
      `kurrentdb://admin:${password}@n1:2113,n2:2113,n3:2113?tls=true`,
      `kurrentdb+discover://admin:${password}@cluster.internal:2113`,
      `esdb://admin:${password}@[bad:2113`,
      `redis://user:${password}@redis.internal:6379`,
      `http://user:${password}@redis.internal:6379`,
      `admin:${password}@n1:2113`,
    ];
    for (const address of addresses) {
      const failure = await reach('X', address, () => Promise.reject(new Error(`cannot connect to ${address}; tried //other:${password}@n2`))).catch((caught: unknown) => caught);
      const fields = startFailureFields(failure);
      expect(JSON.stringify(fields)).not.toContain(password);
      expect((failure as Error).message).not.toContain(password);
      expect(fields['address']).toBe(loggableAddress(address));
    }
    expect(loggableAddress(addresses[0] ?? '')).toBe('kurrentdb://n1:2113,n2:2113,n3:2113?tls=true');
    expect(loggableAddress(addresses[5] ?? '')).toBe('n1:2113');
  });

  it('leave credentials out of any other error they log', () => {
    const fields = startFailureFields(new TypeError('connect failed: redis://app:Pw-9f2Kq7ZxLm@redis.internal:6379'));
    expect(JSON.stringify({ message: (fields['err'] as Error).message, stack: (fields['err'] as Error).stack })).not.toContain('Pw-9f2Kq7ZxLm');
    expect((fields['err'] as Error).message).toBe('connect failed: redis://redis.internal:6379');
    expect((fields['err'] as Error).name).toBe('TypeError');
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

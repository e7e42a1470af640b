import { DEAD_LETTER_HEADER, type DeadLetter, deadLetterHeaders, describeError, readDeadLetter } from './dead-letter.codec';

const letter: DeadLetter = {
  reason: 'handler-failed',
  error: 'Error: read model unavailable',
  topic: 'flagline.events',
  partition: 2,
  offset: '41',
  group: 'environment-projector',
  attempts: 5,
  failedAt: '2026-05-01T10:00:00.000Z',
};

describe('dead-letter codec', () => {
  it('names the reason, the error and the origin in headers, keeping the original headers', () => {
    const headers = deadLetterHeaders(letter, { traceparent: '00-abc-01' });
    expect(headers).toEqual({
      traceparent: '00-abc-01',
      'flagline-dlq-reason': 'handler-failed',
      'flagline-dlq-error': 'Error: read model unavailable',
      'flagline-dlq-topic': 'flagline.events',
      'flagline-dlq-partition': '2',
      'flagline-dlq-offset': '41',
      'flagline-dlq-group': 'environment-projector',
      'flagline-dlq-attempts': '5',
      'flagline-dlq-failed-at': '2026-05-01T10:00:00.000Z',
    });
  });

  it('reads the facts back from the byte headers a consumer receives', () => {
    const received = Object.fromEntries(Object.entries(deadLetterHeaders(letter)).map(([name, value]) => [name, Buffer.from(String(value))]));
    expect(readDeadLetter(received)).toEqual(letter);
  });

  it('shortens a long error message', () => {
    const headers = deadLetterHeaders({ ...letter, error: 'x'.repeat(10_000) });
    expect(String(headers[DEAD_LETTER_HEADER.error])).toHaveLength(2000);
  });

  it('finds nothing on a message without dead-letter headers or with an unknown reason', () => {
    expect(readDeadLetter({ traceparent: 'x' })).toBeNull();
    expect(readDeadLetter({ ...deadLetterHeaders(letter), [DEAD_LETTER_HEADER.reason]: 'bored' })).toBeNull();
  });

  it('describes errors and non-errors', () => {
    expect(describeError(new TypeError('bad'))).toBe('TypeError: bad');
    expect(describeError({ code: 7 })).toBe('non-error thrown: {"code":7}');
  });
});

import { decideRetry } from './handler-retry.policy';

describe('handler retry policy', () => {
  const failure = new Error('boom');

  it('backs off exponentially up to the maximum, then gives up after the last attempt', () => {
    const options = { attempts: 5, initialDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4, 5].map((attempt) => decideRetry(attempt, failure, options))).toEqual([
      { retry: true, delayMs: 100 },
      { retry: true, delayMs: 200 },
      { retry: true, delayMs: 400 },
      { retry: true, delayMs: 500 },
      { retry: false },
    ]);
  });

  it('uses 5 attempts from 200 ms up to 5 s by default', () => {
    expect(decideRetry(1, failure)).toEqual({ retry: true, delayMs: 200 });
    expect(decideRetry(4, failure)).toEqual({ retry: true, delayMs: 1600 });
    expect(decideRetry(5, failure)).toEqual({ retry: false });
  });

  it('retries transient errors without limit, at the maximum delay', () => {
    const options = { attempts: 2, maxDelayMs: 1000, isTransient: (error: unknown) => error instanceof Error && error.message === 'ECONNREFUSED' };
    expect(decideRetry(500, new Error('ECONNREFUSED'), options)).toEqual({ retry: true, delayMs: 1000 });
    expect(decideRetry(2, failure, options)).toEqual({ retry: false });
  });

  it('gives up at once with a single attempt', () => {
    expect(decideRetry(1, failure, { attempts: 1 })).toEqual({ retry: false });
  });

  it('tells onRetry of each failure it retries, with the delay, and not of the one it gives up on', () => {
    const retries: [number, unknown, number][] = [];
    const options = { attempts: 3, initialDelayMs: 10, onRetry: (attempt: number, error: unknown, delayMs: number) => retries.push([attempt, error, delayMs]) };
    expect([1, 2, 3].map((attempt) => decideRetry(attempt, failure, options).retry)).toEqual([true, true, false]);
    expect(retries).toEqual([
      [1, failure, 10],
      [2, failure, 20],
    ]);
  });
});

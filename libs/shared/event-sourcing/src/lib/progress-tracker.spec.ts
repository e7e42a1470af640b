import { ProgressTracker } from './progress-tracker';

/** Which of the promises have settled, and how, after pending callbacks ran. */
async function outcomes(promises: Promise<void>[]): Promise<string[]> {
  const seen = promises.map(() => 'pending');
  promises.forEach((promise, index) => {
    promise.then(
      () => (seen[index] = 'resolved'),
      (error: Error) => (seen[index] = `rejected: ${error.message}`),
    );
  });
  // Settling callbacks are microtasks: a few turns of the queue run them (fake timers or not).
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  return [...seen];
}

describe('ProgressTracker', () => {
  it('resolves at once for a position already reached', async () => {
    const tracker = new ProgressTracker();
    tracker.advance(5);
    expect(await outcomes([tracker.waitFor(3), tracker.waitFor(5)])).toEqual(['resolved', 'resolved']);
  });

  it('resolves exactly the waiters an advance reaches, whatever order they came in', async () => {
    const tracker = new ProgressTracker();
    const waits = [tracker.waitFor(7), tracker.waitFor(2), tracker.waitFor(4), tracker.waitFor(4), tracker.waitFor(9), tracker.waitFor(3)];
    tracker.advance(4);
    expect(await outcomes(waits)).toEqual(['pending', 'resolved', 'resolved', 'resolved', 'pending', 'resolved']);
    expect(tracker.waiting).toBe(2);
    tracker.advance(3); // backwards: ignored
    expect(tracker.position).toBe(4);
    tracker.advance(8);
    expect(await outcomes(waits)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'pending', 'resolved']);
    tracker.advance(9);
    expect(await outcomes(waits)).toEqual(Array(6).fill('resolved'));
    expect(tracker.waiting).toBe(0);
  });

  describe('timeouts', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('rejects each waiter at its own deadline and leaves the others waiting', async () => {
      const tracker = new ProgressTracker();
      const long = tracker.waitFor(10, 1000);
      const short = tracker.waitFor(20, 100);
      const forever = tracker.waitFor(30);
      jest.advanceTimersByTime(150);
      expect(await outcomes([long, short, forever])).toEqual(['pending', 'rejected: Position 20 not reached within 100 ms (at 0)', 'pending']);
      expect(tracker.waiting).toBe(2);

      jest.advanceTimersByTime(849);
      expect(await outcomes([long, forever])).toEqual(['pending', 'pending']);
      jest.advanceTimersByTime(1);
      expect(await outcomes([long, forever])).toEqual(['rejected: Position 10 not reached within 1000 ms (at 0)', 'pending']);
      tracker.advance(30);
      expect(await outcomes([forever])).toEqual(['resolved']);
    });

    it('does not reject a waiter that was reached before its deadline', async () => {
      const tracker = new ProgressTracker();
      const waits = [tracker.waitFor(1, 100), tracker.waitFor(2, 100)];
      tracker.advance(1);
      jest.advanceTimersByTime(500);
      expect(await outcomes(waits)).toEqual(['resolved', 'rejected: Position 2 not reached within 100 ms (at 1)']);
    });
  });
});

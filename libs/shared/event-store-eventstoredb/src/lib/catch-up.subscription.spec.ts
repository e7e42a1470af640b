import type { AllStreamResolvedEvent } from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { FakeSubscriptionStream } from '../testing/fake-eventstoredb.client';
import { SubscriptionEndedError, followCatchUpSubscription } from './catch-up.subscription';

const metadata = { actor: { kind: 'system', id: 'test' }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c' };

function resolvedAt(position: bigint, type = 'Happened', streamId = 'thing-1'): AllStreamResolvedEvent {
  return {
    event: {
      streamId,
      id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
      isJson: true,
      revision: position,
      type,
      created: new Date('2026-01-01T00:00:00.000Z'),
      data: { at: Number(position) },
      metadata,
      position: { commit: position, prepare: position },
    },
    commitPosition: position,
  };
}

function send(stream: FakeSubscriptionStream, ...messages: ({ kind: 'event'; resolved: AllStreamResolvedEvent } | { kind: 'caughtUp' })[]): void {
  for (const message of messages) stream.write(message);
}
const event = (position: number, type?: string, streamId?: string) => ({ kind: 'event' as const, resolved: resolvedAt(BigInt(position), type, streamId) });
const caughtUpSignal = { kind: 'caughtUp' as const };
const never = new Promise<number>(() => undefined);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('followCatchUpSubscription', () => {
  it('settles caughtUp only after every event before the server’s signal was handled', async () => {
    const stream = new FakeSubscriptionStream();
    const handled: number[] = [];
    let handledAtCaughtUp = -1;
    const subscription = followCatchUpSubscription({
      stream,
      after: undefined,
      head: never,
      handler: async (recorded) => {
        await tick();
        handled.push(recorded.globalPosition);
      },
    });
    void subscription.caughtUp.then(() => (handledAtCaughtUp = handled.length));
    // More than the pump keeps in memory, so events also wait in the stream's own buffer.
    send(stream, ...Array.from({ length: 150 }, (_, i) => event(100 + i)), caughtUpSignal, event(1000));
    await subscription.caughtUp;
    expect(handledAtCaughtUp).toBe(150);
    await waitFor(() => handled.length === 151);
    await subscription.stop();
    expect(handled).toEqual([...Array.from({ length: 150 }, (_, i) => 100 + i), 1000]);
  });

  it('settles caughtUp once the head read at the start is reached, without the signal', async () => {
    const stream = new FakeSubscriptionStream();
    const handled: number[] = [];
    const subscription = followCatchUpSubscription({ stream, after: undefined, head: Promise.resolve(300), handler: (recorded) => void handled.push(recorded.globalPosition) });
    let caughtUp = false;
    void subscription.caughtUp.then(() => (caughtUp = true));
    send(stream, event(100), event(200));
    await waitFor(() => handled.length === 2);
    expect(caughtUp).toBe(false);
    send(stream, event(300));
    await subscription.caughtUp;
    expect(handled).toEqual([100, 200, 300]);
    await subscription.stop();
  });

  it('settles caughtUp at once when nothing is stored after the start', async () => {
    const subscription = followCatchUpSubscription({ stream: new FakeSubscriptionStream(), after: 500, head: Promise.resolve(500), handler: () => undefined });
    await expect(subscription.caughtUp).resolves.toBeUndefined();
    const empty = followCatchUpSubscription({ stream: new FakeSubscriptionStream(), after: undefined, head: Promise.resolve(0), handler: () => undefined });
    await expect(empty.caughtUp).resolves.toBeUndefined();
    await Promise.all([subscription.stop(), empty.stop()]);
  });

  it('still settles on the server’s signal when the head cannot be read', async () => {
    const stream = new FakeSubscriptionStream();
    const subscription = followCatchUpSubscription({ stream, after: undefined, head: Promise.reject(new Error('access denied')), handler: () => undefined });
    send(stream, event(100), caughtUpSignal);
    await expect(subscription.caughtUp).resolves.toBeUndefined();
    await subscription.stop();
  });

  it('delivers only events strictly after the start, each once, without system events', async () => {
    const stream = new FakeSubscriptionStream();
    const handled: RecordedEvent[] = [];
    const subscription = followCatchUpSubscription({ stream, after: 200, head: never, handler: (recorded) => void handled.push(recorded) });
    send(stream, event(200), event(300), event(300), event(250), event(350, 'Result', '$projections-x-result'), event(360, '$>', 'thing-1'), event(400), caughtUpSignal);
    await subscription.caughtUp;
    await subscription.stop();
    expect(handled.map((recorded) => recorded.globalPosition)).toEqual([300, 400]);
  });

  it('awaits each handler call before the next', async () => {
    const stream = new FakeSubscriptionStream();
    let active = 0;
    let maxActive = 0;
    const subscription = followCatchUpSubscription({
      stream,
      after: undefined,
      head: never,
      handler: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick();
        active--;
      },
    });
    send(stream, event(1), event(2), event(3), caughtUpSignal);
    await subscription.caughtUp;
    await subscription.stop();
    expect(maxActive).toBe(1);
  });

  it('rejects done and caughtUp with the handler’s error, and releases the server subscription', async () => {
    const stream = new FakeSubscriptionStream();
    const failure = new Error('projection failed');
    const subscription = followCatchUpSubscription({ stream, after: undefined, head: never, handler: () => Promise.reject(failure) });
    send(stream, event(1), caughtUpSignal);
    await expect(subscription.done).rejects.toBe(failure);
    await expect(subscription.caughtUp).rejects.toBe(failure);
    expect(stream.cancelled).toBe(true);
  });

  it('rejects done with the stream’s error', async () => {
    const stream = new FakeSubscriptionStream();
    const subscription = followCatchUpSubscription({ stream, after: undefined, head: never, handler: () => undefined });
    const dropped = new Error('14 UNAVAILABLE');
    stream.emit('error', dropped);
    await expect(subscription.done).rejects.toBe(dropped);
  });

  it('rejects done when the server ends the stream', async () => {
    const stream = new FakeSubscriptionStream();
    const subscription = followCatchUpSubscription({ stream, after: undefined, head: never, handler: () => undefined });
    stream.end();
    await expect(subscription.done).rejects.toBeInstanceOf(SubscriptionEndedError);
  });

  it('stops between events: the handler call in progress finishes, nothing after it starts', async () => {
    const stream = new FakeSubscriptionStream();
    const handled: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const subscription = followCatchUpSubscription({
      stream,
      after: undefined,
      head: never,
      handler: async (recorded) => {
        await gate;
        handled.push(recorded.globalPosition);
      },
    });
    send(stream, event(1), event(2), event(3));
    await tick();
    const stopped = subscription.stop();
    release();
    await stopped;
    await expect(subscription.done).resolves.toBeUndefined();
    await expect(subscription.caughtUp).resolves.toBeUndefined();
    expect(handled).toEqual([1]);
    expect(stream.cancelled).toBe(true);
  });

  it('pauses the stream while the handler falls behind and resumes it once drained', async () => {
    const stream = new FakeSubscriptionStream();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let count = 0;
    const subscription = followCatchUpSubscription({
      stream,
      after: undefined,
      head: never,
      handler: async () => {
        await gate;
        count++;
      },
    });
    send(stream, ...Array.from({ length: 200 }, (_, i) => event(i + 1)));
    await tick();
    expect(stream.isPaused()).toBe(true);
    release();
    await waitFor(() => count === 200);
    expect(stream.isPaused()).toBe(false);
    await subscription.stop();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

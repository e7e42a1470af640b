import { FeedResync } from './feed-resync';

/** A reload the test settles by hand, and the feeds restored so far. */
function harness(options: { canReload?: () => boolean } = {}) {
  const reloads: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const restored: string[] = [];
  const resync = new FeedResync({
    reload: () => new Promise<void>((resolve, reject) => reloads.push({ resolve, reject })),
    canReload: options.canReload ?? (() => true),
    restored: (feed) => restored.push(feed),
    retryMs: 10,
  });
  return { resync, reloads, restored };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const after = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('FeedResync', () => {
  it('counts a returned feed caught up once a reload succeeds', async () => {
    const { resync, reloads, restored } = harness();
    resync.returned('notifications');
    expect(reloads).toHaveLength(1);
    expect(restored).toEqual([]);
    reloads[0]?.resolve();
    await settle();
    expect(restored).toEqual(['notifications']);
  });

  it('tries a failed reload again until one succeeds (the subscription came back before the connection)', async () => {
    const { resync, reloads, restored } = harness();
    resync.returned('notifications');
    reloads[0]?.reject(new Error("Stream isn't writeable"));
    await settle();
    expect(restored).toEqual([]);
    await after(30);
    expect(reloads).toHaveLength(2);
    reloads[1]?.resolve();
    await settle();
    expect(restored).toEqual(['notifications']);
    resync.stop();
  });

  it('does not count a feed that returned during a reload as caught up by that reload', async () => {
    const { resync, reloads, restored } = harness();
    resync.returned('connection');
    resync.returned('notifications');
    expect(reloads).toHaveLength(1);
    reloads[0]?.resolve();
    await settle();
    expect(restored).toEqual(['connection']);
    await after(30);
    expect(reloads).toHaveLength(2);
    reloads[1]?.resolve();
    await settle();
    expect(restored).toEqual(['connection', 'notifications']);
  });

  it('does not restore a feed lost again during the reload, nor retry for it', async () => {
    const { resync, reloads, restored } = harness();
    resync.returned('notifications');
    resync.lost('notifications');
    reloads[0]?.resolve();
    await settle();
    await after(30);
    expect(restored).toEqual([]);
    expect(reloads).toHaveLength(1);
  });

  it('does not count a reload that succeeded while reads cannot go through, and waits for the next return', async () => {
    let connected = true;
    const { resync, reloads, restored } = harness({ canReload: () => connected });
    resync.returned('notifications');
    connected = false;
    reloads[0]?.resolve();
    await settle();
    await after(30);
    expect(restored).toEqual([]);
    expect(reloads).toHaveLength(1);
    connected = true;
    resync.returned('connection');
    reloads[1]?.resolve();
    await settle();
    expect(restored.sort()).toEqual(['connection', 'notifications']);
  });
});

import { IDENTITY_SEALING, toIdentityStreamName, identityIdFor } from '@flagline/admin-domain';
import { AdminCatalog } from '@flagline/admin-projections';
import { InMemorySealingKeyStore, isSealedData, SealingEventStore } from '@flagline/event-sealing';
import { InMemoryEventStore, type Subscription } from '@flagline/event-sourcing';
import { AdminApplication } from './admin-application';
import type { RequestContext } from './admin-context';

/** A promise to resolve from outside. */
function gate(): { readonly opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Erasure against the in-memory log sealed under in-memory keys: the window between IdentityErased
 * and the key's destruction, held open by the spec.
 */
describe('Identities service, erasing', () => {
  let feed: Subscription;
  let app: AdminApplication;
  let log: InMemoryEventStore;
  let keys: InMemorySealingKeyStore;
  let request: RequestContext;
  let environmentId: number;
  let environmentKey: string;
  /** Hooks of the shell's erasure and of the read models' barrier, set by each spec. */
  let beforeDestroy: () => Promise<void>;
  let relay: () => Promise<void>;
  const destroyed: string[] = [];
  const sdk = (identifier: string, traits: Record<string, string>) =>
    app.identities.recordFromSdk({ environmentId, identifier, traits, actor: { kind: 'environment-key', id: 'spec' }, correlationId: 'spec' });

  beforeEach(async () => {
    log = new InMemoryEventStore();
    keys = new InMemorySealingKeyStore();
    const store = new SealingEventStore(log, keys, IDENTITY_SEALING);
    const catalog = new AdminCatalog();
    feed = store.subscribeToAll({}, (event) => catalog.apply(event));
    beforeDestroy = () => Promise.resolve();
    relay = () => Promise.resolve();
    destroyed.length = 0;
    app = new AdminApplication(
      {
        store,
        catalog,
        projectionBarrier: () => relay(),
        erasure: {
          destroyKey: async (streamName) => {
            await beforeDestroy();
            destroyed.push(streamName);
            await keys.destroy(streamName);
          },
        },
      },
      { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' },
    );
    await app.auth.bootstrap();
    const root = app.auth.authenticate('k'.repeat(32));
    if (!root) throw new Error('no administrator');
    request = { principal: root, correlationId: 'spec' };
    const organisationId = (await app.organisations.create(request, { name: 'Acme' })).view.id;
    const projectId = (await app.projects.create(request, { organisationId, name: 'Web' })).view.id;
    const environment = (await app.environments.create(request, projectId, { name: 'Production' })).view;
    environmentId = environment.id;
    environmentKey = environment.apiKey;
    await app.identities.create(request, environmentKey, { identifier: 'alice', traits: { plan: 'free' } });
  });

  afterEach(async () => {
    await feed.stop();
  });

  /** The key ids that sealed the stream's events, in order. */
  async function sealedWith(identifier: string): Promise<string[]> {
    const { events } = await log.readStream(toIdentityStreamName(identityIdFor(environmentId, identifier)));
    return events.map((event) => (isSealedData(event.data) ? event.data.sealed.kid : 'clear'));
  }

  it('refuses to write an identity while its erasure is pending (409 IDENTITY.ERASURE_PENDING), and once the key is gone writes it under a new key', async () => {
    const held = gate();
    const reached = gate();
    beforeDestroy = () => {
      reached.open();
      return held.opened;
    };
    const erasing = app.identities.erase(request, environmentKey, 'alice');
    await reached.opened;
    // IdentityErased is stored, its key not yet destroyed: an identify would be sealed with it.
    await expect(sdk('alice', { plan: 'pro' })).rejects.toMatchObject({ code: 'IDENTITY.ERASURE_PENDING' });
    await expect(app.identities.create(request, environmentKey, { identifier: 'alice' })).rejects.toMatchObject({ code: 'IDENTITY.ERASURE_PENDING' });
    const [oldKey] = await sealedWith('alice');
    expect(await sealedWith('alice')).toEqual([oldKey, oldKey]);
    held.open();
    await erasing;

    expect(await sdk('alice', { plan: 'pro' })).not.toBeNull();
    const kids = await sealedWith('alice');
    expect(kids).toHaveLength(3);
    expect(kids[2]).not.toBe(oldKey);
    const { view } = await app.identities.get(request, environmentKey, 'alice');
    expect(view).toMatchObject({ identifier: 'alice', traits: { plan: 'pro' } });
  });

  it('a repeated erasure waits for the read models to apply the stored IdentityErased before destroying the key', async () => {
    let crash = true;
    beforeDestroy = () => (crash ? Promise.reject(new Error('crashed before the key was destroyed')) : Promise.resolve());
    await expect(app.identities.erase(request, environmentKey, 'alice')).rejects.toThrow('crashed');
    crash = false;
    const relayed = gate();
    relay = () => relayed.opened;
    const repeat = app.identities.erase(request, environmentKey, 'alice');
    await settle();
    expect(destroyed).toEqual([]);
    expect(await keys.get(toIdentityStreamName(identityIdFor(environmentId, 'alice')))).toBeDefined();
    relayed.open();
    await repeat;
    expect(destroyed).toEqual([toIdentityStreamName(identityIdFor(environmentId, 'alice'))]);
  });
});

import { generatedSecret } from '@flagline/observability';
import { IDENTITY_SEALING, isErasedIdentityEvent } from '@flagline/admin-domain';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { isSealedData, SealingEventStore } from '@flagline/event-sealing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { SqliteSealingKeyStore } from '@flagline/key-store';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IDENTITY_IDS_FILE, KEYS_FILE } from '../sealing';
import { ADMIN, expectStatus, obj, startTestApp, tempDataDir } from '../testing/http-harness';
import type { SealedLogSetup } from '../testing/sealed-log.writer';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

const FIXTURE = join(__dirname, 'fixtures', 'sealed-log-2026-12-06');
const ENV = { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC };

describe('a log with sealed identities and an erasure, written on 2026-12-06 (fixtures/sealed-log-2026-12-06)', () => {
  let dataDir: string;
  let setup: SealedLogSetup;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-sealed-');
    await cp(join(FIXTURE, 'events'), join(dataDir, 'events'), { recursive: true });
    await cp(join(FIXTURE, KEYS_FILE), join(dataDir, KEYS_FILE));
    setup = JSON.parse(await readFile(join(FIXTURE, 'setup.json'), 'utf8')) as SealedLogSetup;
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const withLog = async <T>(read: (raw: EmbeddedEventStore, opened: SealingEventStore) => Promise<T>): Promise<T> => {
    const raw = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
    const keys = SqliteSealingKeyStore.open(join(dataDir, KEYS_FILE));
    try {
      return await read(raw, new SealingEventStore(raw, keys, IDENTITY_SEALING));
    } finally {
      await keys.close();
      await raw.close();
    }
  };

  it('stores every identity event with its identifier and traits only in a sealed box', async () => {
    const log = await readFile(join(dataDir, 'events', 'events.log'));
    // The distinctive texts (a short value such as "pro" is found in any log, inside other words).
    const texts = [...Object.keys(setup.kept), ...Object.values(setup.kept).flatMap((traits) => Object.values(traits).map(String)), ...setup.erased.texts].filter((text) => text.length >= 8);
    expect(texts.length).toBeGreaterThanOrEqual(6);
    for (const text of texts) {
      expect({ text, stored: log.includes(Buffer.from(text)) }).toEqual({ text, stored: false });
    }
    await withLog(async (raw) => {
      const identityEvents = (await raw.readAll()).filter((event) => event.streamName.startsWith('identity-'));
      expect(new Set(identityEvents.map((event) => event.type))).toEqual(
        new Set(['IdentityCreated', 'IdentityTraitsChanged', 'IdentityOverrideSet', 'IdentityErased']),
      );
      for (const event of identityEvents) {
        expect(isSealedData(event.data)).toBe(true);
        expect(Object.keys(event.data as object)).not.toContain('identifier');
      }
    });
  });

  it('opens the kept identities with their keys, and reads every event of the erased one as erased', async () => {
    await withLog(async (_raw, opened) => {
      const identityEvents = (await opened.readAll()).filter((event) => event.streamName.startsWith('identity-'));
      const byStream = new Map<string, RecordedEvent[]>();
      for (const event of identityEvents) byStream.set(event.streamName, [...(byStream.get(event.streamName) ?? []), event]);
      const readable = [...byStream.values()].filter((events) => !events.some(isErasedIdentityEvent));
      const erased = [...byStream.values()].filter((events) => events.every(isErasedIdentityEvent));
      expect(readable.map((events) => (events[0]?.data as { identifier: string }).identifier).sort()).toEqual(Object.keys(setup.kept).sort());
      expect(erased).toHaveLength(1);
      expect(erased[0]?.map((event) => event.type)).toEqual(['IdentityCreated', 'IdentityTraitsChanged', 'IdentityOverrideSet', 'IdentityErased']);
      const text = JSON.stringify(erased);
      for (const secret of setup.erased.texts) expect(text).not.toContain(secret);
    });
  });

  it('is served by the current code: the kept identities with their traits, the erased one not at all', async () => {
    const t = await startTestApp({ dataDir, env: ENV });
    try {
      // Written before identity ids were keyed: its streams are named with the unkeyed digest, which it keeps.
      expect((await readFile(join(dataDir, IDENTITY_IDS_FILE), 'utf8')).trim()).toBe('sha256');
      for (const [identifier, traits] of Object.entries(setup.kept)) {
        const identity = obj(expectStatus(await t.admin.get(`${ADMIN}/environments/${setup.environmentId}/identities/${encodeURIComponent(identifier)}`), 200));
        expect(identity['traits']).toEqual(traits);
      }
      expectStatus(await t.admin.get(`${ADMIN}/environments/${setup.environmentId}/identities/${encodeURIComponent(setup.erased.identifier)}`), 404);
    } finally {
      await t.stop();
    }
  });
});

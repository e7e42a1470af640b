import { readModelKeys, type EnvironmentDocument, type IdentityDocument, type ReadModelChange, type ReadModelStore } from '@flagline/contracts';
import { EnvironmentRegistry } from './environment-registry';
import { FlagsmithSdkService } from './flagsmith-sdk.service';
import { ADMIT_AT, KEEP_ANSWER_AT } from './identity-admission';
import type { SdkAnswer } from './sdk-answer';
import { anEnvironmentDocument, anIdentityDocument } from './testing/environment-documents';

const environment: EnvironmentDocument = anEnvironmentDocument();


/** Documents in a map; counts identity reads. */
class MapStore implements ReadModelStore {
  identityReads = 0;
  constructor(private readonly documents: Map<string, unknown>) {}

  get<T>(key: string): Promise<T | null> {
    if (key.startsWith('identity:')) this.identityReads++;
    return Promise.resolve((this.documents.get(key) ?? null) as T | null);
  }

  getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    return Promise.resolve(keys.map((key) => (this.documents.get(key) ?? null) as T | null));
  }

  keysWithPrefix(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.documents.keys()].filter((key) => key.startsWith(prefix)));
  }

  checkpoint(): Promise<number> {
    return Promise.resolve(0);
  }

  commit(): Promise<boolean> {
    return Promise.resolve(false);
  }

  subscribe(listener: (change: ReadModelChange) => void): () => void {
    void listener;
    return () => undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('identify answers of stored identities', () => {
  let store: MapStore;
  let registry: EnvironmentRegistry;
  let sdk: FlagsmithSdkService;

  beforeEach(async () => {
    store = new MapStore(
      new Map<string, unknown>([
        [readModelKeys.environment(7), environment],
        [readModelKeys.identity(7, 'ada'), anIdentityDocument('ada')],
        [readModelKeys.identity(7, 'grace'), anIdentityDocument('grace')],
      ]),
    );
    registry = new EnvironmentRegistry(store, { identityCacheSize: 1 });
    await registry.start();
    sdk = new FlagsmithSdkService(registry);
  });

  afterEach(() => registry.stop());

  const bodyOf = (identifier: string): string => JSON.stringify({ identifier, traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
  const identify = (identifier: string): SdkAnswer | Promise<SdkAnswer> => {
    const resolved = registry.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    return sdk.identifyRaw(resolved, bodyOf(identifier), () => 'correlation');
  };
  const remembered = (identifier: string): SdkAnswer | undefined => {
    const resolved = registry.resolve('client-key');
    return resolved ? sdk.rememberedBodyAnswer(resolved, bodyOf(identifier)) : undefined;
  };
  const flags = (answer: SdkAnswer): unknown => (JSON.parse(String(answer.body)) as { flags: { feature_state_value: unknown }[] }).flags.map((flag) => flag.feature_state_value);

  it('remembers the answer of an identity asked for again while cached, not of one read from the store once', async () => {
    const first = await identify('ada');
    expect(store.identityReads).toBe(1);
    expect(flags(first)).toEqual(['für pro ☂']);
    expect(first.body).toBeInstanceOf(Buffer);
    // Read from the store just now: answered, and nothing kept for it.
    expect(first.complete).toBeUndefined();
    expect(remembered('ada')).toBeUndefined();

    // Asked again while cached: the same answer, now remembered for its body.
    const second = await identify('ada');
    expect(store.identityReads).toBe(1);
    expect(String(second.body)).toBe(String(first.body));
    expect(second.complete).toBe(true);
    expect(remembered('ada')).toBe(second);
    // The third call is that answer, without evaluating or awaiting anything.
    expect(identify('ada')).toBe(second);
  });

  it('answers without a promise when the store reads synchronously', async () => {
    const reads: string[] = [];
    const documents = new Map<string, unknown>([[readModelKeys.environment(7), environment], [readModelKeys.identity(7, 'ada'), anIdentityDocument('ada')]]);
    const synchronous = new EnvironmentRegistry(new MapStore(documents), {
      readNow: (key) => {
        reads.push(key);
        return documents.get(key) ?? null;
      },
    });
    await synchronous.start();
    const resolved = synchronous.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const service = new FlagsmithSdkService(synchronous);
    const answers = Array.from({ length: KEEP_ANSWER_AT + 1 }, () => service.identifyRaw(resolved, bodyOf('ada'), () => 'correlation'));
    for (const answer of answers) {
      expect(answer).not.toBeInstanceOf(Promise);
      expect(flags(answer as SdkAnswer)).toEqual(['für pro ☂']);
    }
    // Read ADMIT_AT times (cached at the last), then answered from the cache; its answer is kept once
    // it was asked for KEEP_ANSWER_AT times, and the next call is that answer.
    expect(reads).toEqual(Array.from({ length: ADMIT_AT }, () => readModelKeys.identity(7, 'ada')));
    for (const answer of answers.slice(0, KEEP_ANSWER_AT - 1)) expect((answer as SdkAnswer).complete).toBeUndefined();
    expect((answers[KEEP_ANSWER_AT - 1] as SdkAnswer).complete).toBe(true);
    expect(answers[KEEP_ANSWER_AT]).toBe(answers[KEEP_ANSWER_AT - 1]);
    synchronous.stop();
  });

  it('lists the traits in key order, whatever order the stored document keeps them in', async () => {
    const unordered: IdentityDocument = { ...anIdentityDocument('lin'), traits: { zeta: 'z', plan: 'pro', alpha: 1 } };
    const documents = new Map<string, unknown>([[readModelKeys.environment(7), environment], [readModelKeys.identity(7, 'lin'), unordered]]);
    const synchronous = new EnvironmentRegistry(new MapStore(documents), { readNow: (key) => documents.get(key) ?? null });
    await synchronous.start();
    const resolved = synchronous.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const service = new FlagsmithSdkService(synchronous);
    const traitsOf = async (traits: { trait_key: string; trait_value: unknown }[]): Promise<unknown> => {
      const answer = await service.identifyRaw(resolved, JSON.stringify({ identifier: 'lin', traits }), () => 'correlation');
      return (JSON.parse(String(answer.body)) as { traits: unknown }).traits;
    };
    const stored = [
      { trait_key: 'alpha', trait_value: 1, transient: false },
      { trait_key: 'plan', trait_value: 'pro', transient: false },
      { trait_key: 'zeta', trait_value: 'z', transient: false },
    ];
    // Repeating every stored trait, some of them, or none: the stored traits, in key order.
    expect(await traitsOf([{ trait_key: 'zeta', trait_value: 'z' }, { trait_key: 'alpha', trait_value: 1 }, { trait_key: 'plan', trait_value: 'pro' }])).toEqual(stored);
    expect(await traitsOf([{ trait_key: 'plan', trait_value: 'pro' }])).toEqual(stored);
    expect(await traitsOf([])).toEqual(stored);
    // A new value (not stored here: no writer) is evaluated and listed in its place.
    expect(await traitsOf([{ trait_key: 'plan', trait_value: 'free' }, { trait_key: 'beta', trait_value: true }])).toEqual([
      stored[0],
      { trait_key: 'beta', trait_value: true, transient: false },
      { trait_key: 'plan', trait_value: 'free', transient: false },
      stored[2],
    ]);
    synchronous.stop();
  });

  it('lists transient traits in UTF-16 code-unit order, for a few traits and for many, answer after answer', async () => {
    const documents = new Map<string, unknown>([[readModelKeys.environment(7), environment]]);
    const synchronous = new EnvironmentRegistry(new MapStore(documents), { readNow: (key) => documents.get(key) ?? null });
    await synchronous.start();
    const resolved = synchronous.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const service = new FlagsmithSdkService(synchronous);
    const keysOf = async (keys: readonly string[]): Promise<string[]> => {
      const traits = keys.map((key, index) => ({ trait_key: key, trait_value: index }));
      const answer = await service.identifyRaw(resolved, JSON.stringify({ identifier: 'visitor', transient: true, traits }), () => 'correlation');
      return (JSON.parse(String(answer.body)) as { traits: { trait_key: string }[] }).traits.map((trait) => trait.trait_key);
    };
    // 'Z' < 'a' < 'é' < '𝄞' (a surrogate pair, D834) < 'ｆ' (FF46) by code unit; code points would put '𝄞' last.
    const few = ['plan', 'ｆ', 'é', 'a', 'Z', '𝄞', 'age'];
    const many = Array.from({ length: 20 }, (_, index) => `k${(index * 7) % 20}`);
    for (const keys of [few, many, few.slice(0, 2), many, few]) expect(await keysOf(keys)).toEqual([...keys].sort());
    expect(await keysOf(few)).toEqual(['Z', 'a', 'age', 'plan', 'é', '𝄞', 'ｆ']);
    synchronous.stop();
  });

  it('marks the traits a client key repeats as transient where client traits are not stored', async () => {
    const closed: EnvironmentDocument = { ...environment, settings: { ...environment.settings, allowClientTraits: false } };
    const documents = new Map<string, unknown>([[readModelKeys.environment(7), closed], [readModelKeys.identity(7, 'ada'), { ...anIdentityDocument('ada'), traits: { plan: 'pro', seats: 3 } }]]);
    const synchronous = new EnvironmentRegistry(new MapStore(documents), { readNow: (key) => documents.get(key) ?? null });
    await synchronous.start();
    const resolved = synchronous.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const answer = await new FlagsmithSdkService(synchronous).identifyRaw(resolved, bodyOf('ada'), () => 'correlation');
    const body = JSON.parse(String(answer.body)) as { flags: { feature_state_value: unknown }[]; traits: unknown };
    expect(body.flags.map((flag) => flag.feature_state_value)).toEqual(['für pro ☂']);
    expect(body.traits).toEqual([
      { trait_key: 'plan', trait_value: 'pro', transient: true },
      { trait_key: 'seats', trait_value: 3, transient: false },
    ]);
    synchronous.stop();
  });

  it('answers transient identities byte for byte: their own identifier and traits around the flags of their list', async () => {
    const resolved = registry.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const renderer = resolved.environment.renderer;
    const expected = (identifier: string, plan: string): string => {
      const outcomes = resolved.environment.visible(resolved.environment.evaluateIdentity({ identifier, traits: { plan } }, null), 'client');
      const flagsJson = outcomes.map((outcome) => renderer.flag(outcome)).join(',');
      return `{"identifier":${JSON.stringify(identifier)},"flags":[${flagsJson}],"traits":[{"trait_key":"plan","trait_value":${JSON.stringify(plan)},"transient":true}]}`;
    };
    for (const [identifier, plan] of [['visitor-1', 'pro'], ['visitor-2', 'pro'], ['ñ "quoted" 😀', 'free'], ['visitor-1', 'pro']] as const) {
      const body = JSON.stringify({ identifier, transient: true, traits: [{ trait_key: 'plan', trait_value: plan }] });
      const answer = await sdk.identifyRaw(resolved, body, () => 'correlation');
      expect({ identifier, body: Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : answer.body }).toStrictEqual({ identifier, body: expected(identifier, plan) });
    }
  });

  it('writes every trait as JSON.stringify would, for names and values that need escaping and past the names whose opening is kept', async () => {
    const resolved = registry.resolve('client-key');
    if (!resolved) throw new Error('the client key does not resolve');
    const traitsText = async (traits: readonly { trait_key: string; trait_value: unknown }[]): Promise<string> => {
      const answer = await sdk.identifyRaw(resolved, JSON.stringify({ identifier: 'visitor', transient: true, traits }), () => 'correlation');
      const body = Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : String(answer.body);
      return body.slice(body.indexOf('],"traits":[') + 11, -1);
    };
    const expected = (traits: readonly { trait_key: string; trait_value: unknown }[]): string =>
      JSON.stringify([...traits].sort((a, b) => (a.trait_key < b.trait_key ? -1 : 1)).map((trait) => ({ ...trait, transient: true })));
    const odd = [
      { trait_key: 'quote "and" \\ back', trait_value: 'line\nbreak "q" \\ \u0001 ☂ 😀' },
      { trait_key: 'ünï', trait_value: -0 },
      { trait_key: 'n', trait_value: -12.5 },
      { trait_key: 'big', trait_value: 1e21 },
      { trait_key: 'small', trait_value: 1e-7 },
      { trait_key: 'yes', trait_value: true },
      { trait_key: 'no', trait_value: false },
    ];
    expect(await traitsText(odd)).toBe(expected(odd));
    expect(await traitsText(odd)).toBe(expected(odd));
    // More distinct names than are kept: each answer is still right, before and after the set starts again.
    for (let round = 0; round < 6; round++) {
      const many = Array.from({ length: 200 }, (_, index) => ({ trait_key: `k"${round}-${index}`, trait_value: index % 2 === 0 ? `v${index}` : index }));
      expect(await traitsText(many)).toBe(expected(many));
    }
    expect(await traitsText([])).toBe('[]');
    // A float keeps its written form.
    const float = await sdk.identifyRaw(resolved, '{"identifier":"visitor","transient":true,"traits":[{"trait_key":"f","trait_value":5.0}]}', () => 'correlation');
    expect(String(float.body)).toContain('{"trait_key":"f","trait_value":5.0,"transient":true}]}');
  });

  it('forgets a remembered answer once its identity has left the cache', async () => {
    await identify('ada');
    const second = await identify('ada');
    expect(remembered('ada')).toBe(second);
    // A cache of one identity: reading grace drops ada, and ada's answer is no longer served.
    await identify('grace');
    expect(remembered('ada')).toBeUndefined();
    const again = await identify('ada');
    expect(store.identityReads).toBe(3);
    expect(String(again.body)).toBe(String(second.body));
  });
});

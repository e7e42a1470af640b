import type { EnvironmentDocument, IdentityDocument } from '@flagline/contracts';
import { createHash } from 'node:crypto';
import type { EnvironmentRegistry, ResolvedKey } from './environment-registry';
import { OfrepService } from './ofrep.service';
import type { SdkAnswer } from './sdk-answer';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument, anEnvironmentDocument } from './testing/environment-documents';

/**
 * `POST /ofrep/v1/evaluate/flags` assembles its answer from each flag outcome's ready-made bytes:
 * the answer must be exactly the JSON of the flags (key order, non-ASCII text, a variant only where
 * there is one), its ETag the SHA-1 of those bytes, and an answer already handed out must not
 * change when the next one is assembled.
 */

const document: EnvironmentDocument = anEnvironmentDocument({
  features: [
    { feature: aFeatureDocument(1, 'banner'), state: aFeatureStateDocument(11, false, 'default') },
    {
      feature: aFeatureDocument(2, 'colour', { type: 'MULTIVARIATE', options: [{ id: 5, value: 'blue', key: 'blue', defaultAllocation: 100 }] }),
      state: { ...aFeatureStateDocument(12, true, 'grey'), allocations: [{ optionId: 5, percentage: 100 }] },
    },
    { feature: aFeatureDocument(3, 'quota'), state: { ...aFeatureStateDocument(13, true, ''), value: 25 } },
  ],
});

const noIdentities: Pick<EnvironmentRegistry, 'cachedIdentity' | 'readIdentityNow' | 'identity'> = {
  cachedIdentity: () => undefined,
  readIdentityNow: () => null,
  identity: () => Promise.resolve(null as IdentityDocument | null),
};

const resolved: ResolvedKey = { environment: new ServedEnvironment(document), kind: 'server' };
const service = (): OfrepService => new OfrepService(noIdentities as EnvironmentRegistry);
const bulk = (ofrep: OfrepService, body: unknown, ifNoneMatch?: string): SdkAnswer => {
  const answer = ofrep.evaluateAll(resolved, body, ifNoneMatch);
  if (answer instanceof Promise) throw new Error('an identity at hand is answered without a promise');
  return answer;
};
const text = (answer: SdkAnswer): string => (Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : String(answer.body));
const banner = (value: string, reason: string, flagsmithReason: string, enabled: boolean): string =>
  `{"key":"banner","value":${JSON.stringify(value)},"reason":"${reason}","metadata":{"enabled":${enabled},"flagsmithReason":${JSON.stringify(flagsmithReason)},"featureId":1}}`;
const quota = '{"key":"quota","value":25,"reason":"STATIC","metadata":{"enabled":true,"flagsmithReason":"STATIC","featureId":3}}';

describe('OFREP bulk answers assembled from ready-made flag bytes', () => {
  it('is exactly the JSON of every flag, for a matching and a non-matching context', () => {
    const ofrep = service();
    const pro = bulk(ofrep, { context: { targetingKey: 'ada', plan: 'pro' } });
    expect(pro.status).toBe(200);
    const proText = text(pro);
    expect(proText.startsWith(`{"flags":[${banner('für pro ☂', 'TARGETING_MATCH', 'TARGETING_MATCH; segment=pro', true)},{"key":"colour","value":"blue","reason":"SPLIT","variant":"blue","metadata":`)).toBe(true);
    expect(proText.endsWith(`,${quota}]}`)).toBe(true);
    // Nothing but canonical JSON: parsing and writing it again gives the same text.
    expect(JSON.stringify(JSON.parse(proText))).toBe(proText);
    expect(pro.headers?.['content-length']).toBe(Buffer.byteLength(proText));

    const free = bulk(ofrep, { context: { targetingKey: 'bob', plan: 'free' } });
    expect(text(free)).toContain(banner('default', 'DISABLED', 'DEFAULT', false));
    // The earlier answer, handed out already, is not overwritten by the next one.
    expect(text(pro)).toBe(proText);
  });

  it('answers TARGETING_KEY_MISSING, as a flag entry, for a split flag when no targeting key is given', () => {
    const anonymous = JSON.parse(text(bulk(service(), { context: { plan: 'pro' } }))) as { flags: unknown[] };
    expect(anonymous.flags).toStrictEqual([
      JSON.parse(banner('default', 'DISABLED', 'DEFAULT', false)),
      { key: 'colour', errorCode: 'TARGETING_KEY_MISSING', errorDetails: 'This flag is split by identity: give context.targetingKey' },
      JSON.parse(quota),
    ]);
  });

  it('tags the answer with the SHA-1 of its bytes and answers 304 to that tag, weak or in a list', () => {
    const ofrep = service();
    const first = bulk(ofrep, { context: { targetingKey: 'ada', plan: 'pro' } });
    const etag = `"${createHash('sha1').update(text(first)).digest('base64url')}"`;
    expect(first.headers?.['etag']).toBe(etag);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = bulk(ofrep, { context: { targetingKey: 'ada', plan: 'pro' } }, ifNoneMatch);
      expect({ ifNoneMatch, status: again.status, body: again.body, etag: again.headers?.['etag'] }).toStrictEqual({ ifNoneMatch, status: 304, body: null, etag });
    }
    const other = bulk(ofrep, { context: { targetingKey: 'bob', plan: 'free' } }, etag);
    expect(other.status).toBe(200);
    expect(other.headers?.['etag']).not.toBe(etag);
  });

  it('gives contexts whose flags come out the same one shared answer, and a new environment revision its new values', () => {
    const ofrep = service();
    const a = bulk(ofrep, { context: { targetingKey: 'ada', plan: 'pro' } });
    const b = bulk(ofrep, { context: { targetingKey: 'eve', plan: 'pro', country: 'FR' } });
    // Made once for that list of flag outcomes: the same answer, body and headers, not a copy.
    expect(b).toBe(a);
    const c = bulk(ofrep, { context: { targetingKey: 'bob', plan: 'free' } });
    expect(c).not.toBe(a);
    expect(text(c)).not.toBe(text(a));
    expect(bulk(ofrep, { context: { targetingKey: 'ada', plan: 'pro' } })).toBe(a);
    const changed = new ServedEnvironment({ ...document, revision: 2, features: [{ ...document.features[0]!, state: aFeatureStateDocument(11, true, 'new default') }, ...document.features.slice(1)] }, resolved.environment);
    const answer = ofrep.evaluateAll({ environment: changed, kind: 'server' }, { context: { targetingKey: 'bob', plan: 'free' } });
    if (answer instanceof Promise) throw new Error('unexpected promise');
    expect(text(answer)).toContain(banner('new default', 'DEFAULT', 'DEFAULT', true));
  });
});

describe('OFREP bulk answers kept per list of outcomes', () => {
  // 11 flags, each switched on by a segment of its own: 2,048 different lists, more than are kept.
  const names = Array.from({ length: 11 }, (_, index) => `flag_${index}`);
  const many: EnvironmentDocument = {
    ...document,
    features: names.map((name, index) => ({ feature: aFeatureDocument(100 + index, name), state: aFeatureStateDocument(200 + index, false, 'off') })),
    segments: names.map((name, index) => ({
      id: 300 + index,
      name: `${name}_on`,
      rules: [{ type: 'ALL', conditions: [{ property: name, operator: 'EQUAL', value: 'on' }], rules: [] }],
      overrides: [{ featureId: 100 + index, priority: 0, state: aFeatureStateDocument(400 + index, true, 'on') }],
    })),
  };
  const manyResolved: ResolvedKey = { environment: new ServedEnvironment(many), kind: 'server' };

  it('answers every context right when there are more lists than answers kept, an evicted list included', () => {
    const ofrep = service();
    const check = (mask: number): void => {
      const context: Record<string, string> = { targetingKey: `user-${mask}` };
      names.forEach((name, index) => (context[name] = mask & (1 << index) ? 'on' : 'no'));
      const answer = ofrep.evaluateAll(manyResolved, { context });
      if (answer instanceof Promise) throw new Error('unexpected promise');
      const values = (JSON.parse(text(answer)) as { flags: { key: string; value: string }[] }).flags.map((flag) => flag.value);
      expect({ mask, values }).toStrictEqual({ mask, values: names.map((_, index) => (mask & (1 << index) ? 'on' : 'off')) });
    };
    for (let mask = 0; mask < 1 << names.length; mask++) check(mask);
    for (const mask of [0, 1, 1023, 2047]) check(mask);
  });
});

import type { EnvironmentDocument, IdentityDocument } from '@flagline/contracts';
import { parseJsonKeepingFloats } from '@flagline/python-compat';
import type { EnvironmentRegistry, ResolvedKey } from './environment-registry';
import { OfrepService } from './ofrep.service';
import type { SdkAnswer } from './sdk-answer';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument, anEnvironmentDocument, anIdentityDocument } from './testing/environment-documents';

/**
 * `POST /ofrep/v1/evaluate/flags/{key}` answers with bytes made once per flag outcome: the body must
 * be exactly the flag's JSON with headers that describe it, the traits must be the stored
 * identity's with the context's scalar attributes over them (a non-scalar attribute leaves a stored
 * trait alone; one named `__proto__` is a trait like every other), and bad contexts still get OFREP's
 * errors.
 */

const environment: EnvironmentDocument = anEnvironmentDocument({
  features: [
    { feature: aFeatureDocument(1, 'greeting'), state: aFeatureStateDocument(11, true, 'hello') },
    {
      feature: aFeatureDocument(2, 'theme', { type: 'MULTIVARIATE', options: [{ id: 5, value: 'dark', key: 'dark', defaultAllocation: 100 }] }),
      state: { ...aFeatureStateDocument(12, true, 'light'), allocations: [{ optionId: 5, percentage: 100 }] },
    },
  ],
  segments: [
    {
      id: 21,
      name: 'pro',
      rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }],
      overrides: [{ featureId: 1, priority: 0, state: aFeatureStateDocument(31, true, 'grüß dich ☂') }],
    },
    {
      id: 22,
      name: 'odd trait name',
      rules: [{ type: 'ALL', conditions: [{ property: '__proto__', operator: 'EQUAL', value: 'x' }], rules: [] }],
      overrides: [{ featureId: 1, priority: 1, state: aFeatureStateDocument(32, true, 'proto') }],
    },
  ],
});

const storedAlice: IdentityDocument = anIdentityDocument('alice', { identityUuid: '6b0c8e4e-0a3b-4d7e-9a55-1f2d3c4b5a69' });

const registry: Pick<EnvironmentRegistry, 'cachedIdentity' | 'readIdentityNow' | 'identity'> = {
  cachedIdentity: (_environmentId, identifier) => (identifier === 'alice' ? storedAlice : null),
  readIdentityNow: () => null,
  identity: () => Promise.resolve(null as IdentityDocument | null),
};

const resolved: ResolvedKey = { environment: new ServedEnvironment(environment), kind: 'server' };
const ofrep = new OfrepService(registry as EnvironmentRegistry);

/** The answer to a body given as JSON text, parsed as the HTTP front parses it. */
function single(key: string, text: string): SdkAnswer {
  const answer = ofrep.evaluateFlag(resolved, key, parseJsonKeepingFloats(text));
  if (answer instanceof Promise) throw new Error('an identity at hand is answered without a promise');
  return answer;
}
const bodyText = (answer: SdkAnswer): string => (Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : String(answer.body));
const greeting = (answer: SdkAnswer): unknown => (JSON.parse(bodyText(answer)) as { value: unknown }).value;

describe('single-flag OFREP answers', () => {
  it('are the flag JSON as bytes, with complete headers describing them', () => {
    const answer = single('greeting', '{"context":{"targetingKey":"bob","plan":"pro"}}');
    expect(answer.status).toBe(200);
    expect(answer.complete).toBe(true);
    expect(bodyText(answer)).toBe(
      '{"key":"greeting","value":"grüß dich ☂","reason":"TARGETING_MATCH","metadata":{"enabled":true,"flagsmithReason":"TARGETING_MATCH; segment=pro","featureId":1}}',
    );
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': Buffer.byteLength(bodyText(answer)), 'access-control-allow-origin': '*' });
  });

  it('are made once per outcome, and differ between outcomes', () => {
    const first = single('greeting', '{"context":{"targetingKey":"bob","plan":"pro"}}');
    expect(single('greeting', '{"context":{"targetingKey":"carol","plan":"pro"}}')).toBe(first);
    const other = single('greeting', '{"context":{"targetingKey":"bob","plan":"free"}}');
    expect(other).not.toBe(first);
    expect(greeting(other)).toBe('hello');
    expect(bodyText(first)).toContain('grüß dich');
  });

  it('read the stored traits, with the context attributes over them', () => {
    expect(greeting(single('greeting', '{"context":{"targetingKey":"alice"}}'))).toBe('grüß dich ☂');
    expect(greeting(single('greeting', '{"context":{"targetingKey":"alice","plan":"free"}}'))).toBe('hello');
    // An attribute that is no trait value (an object, null) leaves the stored trait in place.
    expect(greeting(single('greeting', '{"context":{"targetingKey":"alice","plan":{"tier":"free"}}}'))).toBe('grüß dich ☂');
    expect(greeting(single('greeting', '{"context":{"targetingKey":"alice","plan":null}}'))).toBe('grüß dich ☂');
  });

  it('take an attribute named __proto__ as a trait', () => {
    expect(greeting(single('greeting', '{"context":{"targetingKey":"bob","__proto__":"x"}}'))).toBe('proto');
    expect(greeting(single('greeting', '{"context":{"targetingKey":"alice","__proto__":"x"}}'))).toBe('grüß dich ☂');
    expect(greeting(single('greeting', '{"context":{"targetingKey":"bob","__proto__":"y"}}'))).toBe('hello');
  });

  it('still answer bad contexts, unknown flags and missing targeting keys with OFREP errors', () => {
    const invalid = single('greeting', '{"context":{"targetingKey":5}}');
    expect(invalid.status).toBe(400);
    expect(JSON.parse(bodyText(invalid))).toMatchObject({ key: 'greeting', errorCode: 'INVALID_CONTEXT' });
    expect(JSON.parse(bodyText(single('greeting', '[1]')))).toMatchObject({ key: 'greeting', errorCode: 'INVALID_CONTEXT' });
    expect(JSON.parse(bodyText(single('greeting', '{"context":"bob"}')))).toMatchObject({ key: 'greeting', errorCode: 'INVALID_CONTEXT' });
    const missing = single('nope', '{"context":{"targetingKey":"bob"}}');
    expect(missing.status).toBe(404);
    expect(JSON.parse(bodyText(missing))).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    const split = single('theme', '{"context":{"plan":"pro"}}');
    expect(split.status).toBe(400);
    expect(JSON.parse(bodyText(split))).toMatchObject({ key: 'theme', errorCode: 'TARGETING_KEY_MISSING' });
    // Without a targeting key, a flag no split decides is the environment's.
    expect(greeting(single('greeting', '{}'))).toBe('hello');
    expect(greeting(single('greeting', '{"context":null}'))).toBe('hello');
  });
});

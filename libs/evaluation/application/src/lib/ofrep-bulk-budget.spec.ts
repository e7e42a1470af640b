import type { EnvironmentDocument } from '@flagline/contracts';
import { SHARED_LIST_BUDGET } from './kept-by-list';
import { OfrepFlagRenderer } from './ofrep-flag.renderer';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument, anEnvironmentDocument } from './testing/environment-documents';

/**
 * Bulk answers are kept per list of flag outcomes, and a client choosing its contexts can make
 * many lists: what is kept must stay within a byte budget however large the bodies, and every
 * answer must still be the right one, whether it was kept, evicted or never kept.
 */

// 12 flags, each switched on by a segment of its own: 4,096 possible lists. Each value is about
// 40 KB, so a body is about 480 KB: only a few fit in the budget.
const names = Array.from({ length: 12 }, (_, index) => `flag_${index}`);
const big = (word: string, index: number): string => `${word}-${index}-`.padEnd(40_000, word === 'on' ? 'n' : 'f');
const document: EnvironmentDocument = anEnvironmentDocument({
  features: names.map((name, index) => ({ feature: aFeatureDocument(100 + index, name), state: aFeatureStateDocument(200 + index, true, big('off', index)) })),
  segments: names.map((name, index) => ({
    id: 300 + index,
    name: `${name}_on`,
    rules: [{ type: 'ALL', conditions: [{ property: name, operator: 'EQUAL', value: 'on' }], rules: [] }],
    overrides: [{ featureId: 100 + index, priority: 0, state: aFeatureStateDocument(400 + index, true, big('on', index)) }],
  })),
});
const environment = new ServedEnvironment(document);

/** The renderer's answer for the context whose flags are on where `mask` has a bit, checked value by value. */
function answerFor(renderer: OfrepFlagRenderer, mask: number): ReturnType<OfrepFlagRenderer['bulk']> {
  const traits: Record<string, string> = {};
  names.forEach((name, index) => (traits[name] = mask & (1 << index) ? 'on' : 'no'));
  const made = renderer.bulk(environment.visible(environment.evaluateIdentity({ identifier: `user-${mask}`, traits }, null), 'server'), false);
  const body = made.answer.body;
  if (!Buffer.isBuffer(body)) throw new Error('a bulk answer is bytes');
  const values = (JSON.parse(body.toString('utf8')) as { flags: { value: string }[] }).flags.map((flag) => flag.value);
  expect({ mask, values }).toStrictEqual({ mask, values: names.map((_, index) => big(mask & (1 << index) ? 'on' : 'off', index)) });
  return made;
}

describe('OFREP bulk answers kept within a byte budget', () => {
  it('keeps no more bytes than the budget through many large lists, and answers each right', () => {
    const renderer = new OfrepFlagRenderer(environment);
    let largest = 0;
    const original = answerFor(renderer, 0);
    for (let mask = 0; mask < 200; mask++) {
      const body = answerFor(renderer, mask).answer.body;
      largest = Math.max(largest, body === null ? 0 : body.length);
      expect(renderer.bulkBytesKept).toBeLessThanOrEqual(SHARED_LIST_BUDGET.bytes);
    }
    // Large enough to be kept, and too many to keep them all: the budget is what bounds them.
    expect(largest).toBeGreaterThan(400_000);
    expect(largest).toBeLessThan(SHARED_LIST_BUDGET.perList);
    expect(renderer.bulkBytesKept).toBeGreaterThan(SHARED_LIST_BUDGET.bytes - 2 * largest);
    // The list answered last is still kept and handed out again; the first was evicted, and is made anew, right.
    expect(answerFor(renderer, 199)).toBe(answerFor(renderer, 199));
    const first = answerFor(renderer, 0);
    expect(first).not.toBe(original);
    expect(answerFor(renderer, 0)).toBe(first);
    expect(renderer.bulkBytesKept).toBeLessThanOrEqual(SHARED_LIST_BUDGET.bytes);
  });

  it('keeps no answer larger than its share of the budget, and still answers it right', () => {
    const renderer = new OfrepFlagRenderer(environment, { bytes: 1_000_000, perList: 250_000 });
    const once = answerFor(renderer, 5);
    expect(renderer.bulkBytesKept).toBe(0);
    const again = answerFor(renderer, 5);
    expect(again).not.toBe(once);
    expect(again.etag).toBe(once.etag);
  });
});

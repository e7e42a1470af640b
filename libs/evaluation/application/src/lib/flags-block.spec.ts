import type { EnvironmentDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';
import { FLAGS_BLOCK_BYTES, FlagRenderer } from './flagsmith-flag.renderer';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument, anEnvironmentDocument } from './testing/environment-documents';

/**
 * An identify answer's flags are copied from one block kept per list of flag outcomes: the block
 * must be exactly the flags' JSON joined with commas, shared by every identity with that list,
 * and kept within a byte budget however many lists a client makes.
 */

// 12 flags, each switched on by a segment of its own: 4,096 possible lists.
const names = Array.from({ length: 12 }, (_, index) => `flag_${index}`);
const valueOf = (word: string, index: number, size: number): string => `${word}-${index}-`.padEnd(size, word === 'on' ? 'n' : 'f');

function environmentOf(size: number): ServedEnvironment {
  const document: EnvironmentDocument = anEnvironmentDocument({
    features: names.map((name, index) => ({ feature: aFeatureDocument(100 + index, name), state: aFeatureStateDocument(200 + index, true, valueOf('off', index, size)) })),
    segments: names.map((name, index) => ({
      id: 300 + index,
      name: `${name}_on`,
      rules: [{ type: 'ALL', conditions: [{ property: name, operator: 'EQUAL', value: 'on' }], rules: [] }],
      overrides: [{ featureId: 100 + index, priority: 0, state: aFeatureStateDocument(400 + index, true, valueOf('on', index, size)) }],
    })),
  });
  return new ServedEnvironment(document);
}

/** The outcomes of the identity whose flags are on where `mask` has a bit. */
function outcomesFor(environment: ServedEnvironment, mask: number, identifier = `user-${mask}`): readonly FlagOutcome[] {
  const traits: Record<string, string> = {};
  names.forEach((name, index) => (traits[name] = mask & (1 << index) ? 'on' : 'no'));
  return environment.visible(environment.evaluateIdentity({ identifier, traits }, null), 'server');
}

/** The block for `mask`, checked against the flags' own JSON and, parsed, value by value. */
function blockFor(environment: ServedEnvironment, renderer: FlagRenderer, mask: number, size: number, identifier?: string): Buffer {
  const outcomes = outcomesFor(environment, mask, identifier);
  const block = renderer.flagsBlock(outcomes);
  expect(block.toString('utf8')).toBe(outcomes.map((outcome) => renderer.flag(outcome)).join(','));
  const values = (JSON.parse(`[${block.toString('utf8')}]`) as { feature_state_value: string }[]).map((flag) => flag.feature_state_value);
  expect({ mask, values }).toStrictEqual({ mask, values: names.map((_, index) => valueOf(mask & (1 << index) ? 'on' : 'off', index, size)) });
  return block;
}

describe('the flags of identify answers, kept per list of outcomes', () => {
  it('gives identities whose flags come out the same one shared block, and others their own', () => {
    const environment = environmentOf(20);
    const renderer = environment.renderer;
    const first = blockFor(environment, renderer, 5, 20, 'ada');
    // Another identity (the key appears nowhere in a flag) with the same list: the same bytes, not a copy.
    expect(blockFor(environment, renderer, 5, 20, 'grace')).toBe(first);
    const other = blockFor(environment, renderer, 6, 20, 'ada');
    expect(other).not.toBe(first);
    expect(other.equals(first)).toBe(false);
    expect(blockFor(environment, renderer, 5, 20, 'linus')).toBe(first);
  });

  it('keeps no more bytes than the budget through many large lists, and gives each its right block', () => {
    // Values of about 40 KB: a block of 12 flags is about 480 KB, so only a few fit in the budget.
    const size = 40_000;
    const environment = environmentOf(size);
    const renderer = environment.renderer;
    let largest = 0;
    for (let mask = 0; mask < 120; mask++) {
      largest = Math.max(largest, blockFor(environment, renderer, mask, size).length);
      expect(renderer.blockBytesKept).toBeLessThanOrEqual(FLAGS_BLOCK_BYTES);
    }
    expect(largest).toBeGreaterThan(400_000);
    expect(largest).toBeLessThan(FLAGS_BLOCK_BYTES / 4);
    // The budget, not the number of lists, is what bounds them: nearly full, never over.
    expect(renderer.blockBytesKept).toBeGreaterThan(FLAGS_BLOCK_BYTES - 2 * largest);
    // The list served last is still kept; the first was evicted and is joined anew, right.
    expect(blockFor(environment, renderer, 119, size)).toBe(blockFor(environment, renderer, 119, size));
    const first = blockFor(environment, renderer, 0, size);
    expect(blockFor(environment, renderer, 0, size)).toBe(first);
  });

  it('keeps no block larger than its share of the budget, and still gives it right', () => {
    const size = 40_000;
    const environment = environmentOf(size);
    const renderer = new FlagRenderer(environment.document, environment.features, undefined, { bytes: 1_000_000, perList: 250_000 });
    const once = blockFor(environment, renderer, 3, size);
    expect(renderer.blockBytesKept).toBe(0);
    const again = blockFor(environment, renderer, 3, size);
    expect(again).not.toBe(once);
    expect(again.equals(once)).toBe(true);
  });

  it('gives an empty list an empty block', () => {
    const environment = environmentOf(20);
    expect(environment.renderer.flagsBlock([]).length).toBe(0);
  });
});

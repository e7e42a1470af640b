import canonicalize from 'canonicalize';
import { canonicalEventBytes, canonicalJson } from './canonical-event';

/** A small seeded generator (mulberry32), so a failure names a value that can be made again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Code units that test escaping and ordering: controls, quotes, backslash, DEL, U+2028/9, lone and paired surrogates, the top of the BMP. */
const SPECIAL = ['"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', '\u0080', '\u2028', '\u2029', '\ud800', '\udfff', '\ud83d\ude00', '\uffff', '\ufeff', 'é', 'ö', '€', '日', 'a', 'Z', '0', ' '];

/** Numbers whose shortest ECMAScript form is the interesting part of RFC 8785 (its appendix B among them). */
const NUMBERS = [0, -0, 5.0, 1, -1, 1.5, 0.1, 1e21, 1e20, 1e-7, 1e-6, 123456789012345680000, 9007199254740991, -9007199254740991, 9007199254740992, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 4.5, 0.002, 2e-3, 1e23, 333333333.3333333, 1.0000000000000002];

function generator(seed: number): { value: (depth: number) => unknown; string: () => string } {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const string = (): string => {
    let text = '';
    const length = Math.floor(next() * 8);
    for (let index = 0; index < length; index++) {
      const roll = next();
      if (roll < 0.4) text += pick(SPECIAL);
      else if (roll < 0.7) text += String.fromCharCode(0x20 + Math.floor(next() * 95));
      else text += String.fromCharCode(Math.floor(next() * 0x10000));
    }
    return text;
  };
  const number = (): number => {
    const roll = next();
    if (roll < 0.4) return pick(NUMBERS);
    if (roll < 0.6) return Math.floor((next() - 0.5) * 2 ** 40);
    // Any finite double, from random bits.
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, Math.floor(next() * 2 ** 32));
    view.setUint32(4, Math.floor(next() * 2 ** 32));
    const double = view.getFloat64(0);
    return Number.isFinite(double) ? double : next();
  };
  const value = (depth: number): unknown => {
    const roll = next();
    if (depth <= 0 || roll < 0.45) return pick<() => unknown>([string, number, () => next() < 0.5, () => null])();
    if (roll < 0.7) return Array.from({ length: Math.floor(next() * 5) }, () => (next() < 0.05 ? undefined : value(depth - 1)));
    const object: Record<string, unknown> = {};
    for (let count = Math.floor(next() * 6); count > 0; count--) object[next() < 0.3 ? pick(SPECIAL) : string()] = next() < 0.05 ? undefined : value(depth - 1);
    return object;
  };
  return { value, string };
}

describe('canonicalJson (RFC 8785), against the canonicalize package as the reference', () => {
  it('writes the same text as canonicalize for 20,000 generated values: unicode, escapes, numbers, nesting, keys to sort', () => {
    const { value } = generator(8785);
    for (let index = 0; index < 20_000; index++) {
      const input = value(5);
      const expected = canonicalize(input);
      const actual = canonicalJson(input);
      if (actual !== expected) throw new Error(`value ${index} differs: ${JSON.stringify(input)}\n  canonicalize: ${expected}\n  canonicalJson: ${actual}`);
    }
  });

  it('writes the numbers and key order of RFC 8785 as canonicalize does', () => {
    for (const number of NUMBERS) expect(canonicalJson(number)).toBe(canonicalize(number));
    expect(canonicalJson([-0, 5.0, 1e21, 1e-7])).toBe('[0,5,1e+21,1e-7]');
    // UTF-16 code units: a surrogate pair (U+1F600) sorts before U+FFFF and after U+20AC.
    const keys = { '\uffff': 1, '\ud83d\ude00': 2, '€': 3, '\r': 4, '1': 5, ö: 6 };
    expect(canonicalJson(keys)).toBe(canonicalize(keys));
    expect(canonicalJson(keys)).toBe('{"\\r":4,"1":5,"ö":6,"€":3,"😀":2,"\uffff":1}');
    // Many keys, in every order of insertion: the same text as the reference.
    const { string } = generator(1);
    const many: Record<string, number> = {};
    for (let index = 0; index < 300; index++) many[string() + String(index % 7)] = index;
    const reversed = Object.fromEntries(Object.entries(many).reverse());
    expect(canonicalJson(many)).toBe(canonicalize(many));
    expect(canonicalJson(reversed)).toBe(canonicalize(many));
  });

  it('leaves out undefined members, writes undefined array items as null and honours toJSON, as canonicalize does', () => {
    const input = { b: undefined, a: [undefined, new Date(0)], c: { toJSON: () => ({ z: 1, y: 2 }) } };
    expect(canonicalJson(input)).toBe(canonicalize(input));
    expect(canonicalJson(input)).toBe('{"a":[null,"1970-01-01T00:00:00.000Z"],"c":{"y":2,"z":1}}');
  });

  it('refuses what JSON cannot hold', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => canonicalJson({ x: [bad] })).toThrow(TypeError);
      expect(() => canonicalize({ x: [bad] })).toThrow();
    }
    expect(() => canonicalJson(BigInt(1))).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalEventBytes({ id: 'e', type: 't', streamName: 's', streamRevision: 0, data: { n: Number.NaN }, metadata: {}, recordedAt: '' })).toThrow(/Event e has no canonical form/);
  });

  it('gives an event the bytes canonicalize gives its fields', () => {
    const { value, string } = generator(6962);
    for (let index = 0; index < 500; index++) {
      const event = { id: string(), type: string(), streamName: string(), streamRevision: index, data: value(4), metadata: value(3), recordedAt: new Date(index * 1e9).toISOString() };
      expect(canonicalEventBytes(event).equals(Buffer.from(canonicalize(event) as string, 'utf8'))).toBe(true);
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFrozen } from './frozen-json';
import { SqliteReadModelStore } from './sqlite-read-model.store';

/** Every object and array reachable from `value`, itself included. */
function objectsIn(value: unknown): object[] {
  if (typeof value !== 'object' || value === null) return [];
  return [value, ...Object.values(value).flatMap(objectsIn)];
}

describe('parseFrozen', () => {
  const identity = {
    environmentId: 4,
    identifier: 'ada',
    identityUuid: '4f6bc8b4-bb9e-c5a1-81dd-4073c9955553',
    traits: { plan: 'pro', seats: 5, beta: true, ratio: 0.5 },
    floats: ['seats'],
    overrides: [{ featureId: 3, state: { enabled: true, value: { kind: 'string', text: 'gold' }, variants: [{ id: 1, weight: 50 }] } }],
    revision: 2,
  };

  it('reads what JSON.parse reads, every object and array in it frozen', () => {
    const parsed = parseFrozen(JSON.stringify(identity));
    expect(parsed).toEqual(identity);
    const objects = objectsIn(parsed);
    // The document, traits, floats, overrides, the override, its state, value, variants and the variant.
    expect(objects).toHaveLength(9);
    for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
    expect(() => (parsed as { traits: Record<string, unknown> }).traits['plan'] = 'free').toThrow(TypeError);
    expect(() => (parsed as { overrides: unknown[] }).overrides.push({})).toThrow(TypeError);
  });

  it('freezes a "__proto__" member as the own member JSON.parse makes of it, leaving the prototype alone', () => {
    const parsed = parseFrozen('{"traits":{"__proto__":{"polluted":true},"plan":"pro"}}') as { traits: Record<string, unknown> };
    const member = Object.getOwnPropertyDescriptor(parsed.traits, '__proto__')?.value as object;
    expect(member).toEqual({ polluted: true });
    expect(Object.isFrozen(member)).toBe(true);
    expect(Object.getPrototypeOf(parsed.traits)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('answers scalars and null as JSON.parse does, and throws on text that is not JSON', () => {
    expect(parseFrozen('null')).toBeNull();
    expect(parseFrozen('5')).toBe(5);
    expect(parseFrozen('"text"')).toBe('text');
    expect(Object.isFrozen(parseFrozen('[[1],[2,[3]]]'))).toBe(true);
    expect(() => parseFrozen('{"open":')).toThrow(SyntaxError);
  });
});

describe('SqliteReadModelStore: identity documents read from the file', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'flagline-identity-reads-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('are the documents written, frozen throughout, by getNow and get alike', async () => {
    const path = join(directory, 'read-models.sqlite');
    const document = {
      environmentId: 7,
      identifier: 'ada',
      traits: { plan: 'pro', seats: 5 },
      floats: ['seats'],
      overrides: [{ featureId: 3, state: { enabled: true, value: 'gold', variants: [{ id: 1, weight: 50 }] } }],
      revision: 1,
    };
    const writer = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
    await writer.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 1 }, writes: [{ key: 'identity:7:ada', value: document }], changedEnvironments: [] });
    await writer.close();

    // A new process: nothing cached, every read decodes the file's text.
    const reader = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
    try {
      const reads = [reader.getNow('identity:7:ada'), await reader.get('identity:7:ada')];
      for (const read of reads) {
        expect(read).toEqual(document);
        const objects = objectsIn(read);
        expect(objects).toHaveLength(8);
        for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
      }
      // getNow keeps nothing: each read is its own decoded copy.
      expect(reader.getNow('identity:7:ada')).not.toBe(reads[0]);
      expect(reader.getNow('identity:7:nobody')).toBeNull();
    } finally {
      await reader.close();
    }
  });
});

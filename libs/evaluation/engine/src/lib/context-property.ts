/**
 * Condition properties, compiled once per environment. A property is a trait key, or, when it
 * starts with `$.`, a JSONPath into the evaluation context that a trait literally named like the
 * path overrides. Common paths are recognised at compile time and resolved by direct lookup; only
 * unusual queries run through the JSONPath engine.
 */
import { jsonpath, type JSONPathQuery } from 'json-p3';
import { NONE, NonPrimitive, toContextValue, type ContextValue } from './context-value';
import { isRecord, hasOwn } from './json-shape';
import { compileJsonPath } from './ordered-json-path';

/** How a compiled property is resolved. */
export const PropertySource = {
  /** A trait key. */
  Trait: 0,
  /** Looks like a JSONPath but is not a valid one: only a trait with that literal key. */
  LiteralTrait: 1,
  /** `$.identity.identifier`. */
  IdentityIdentifier: 2,
  /** `$.identity.key` (the enriched key). */
  IdentityKey: 3,
  /** `$.identity.traits.<name>` or `$.identity.traits['<name>']`. */
  IdentityTrait: 4,
  /** Any other chain of names under `$.identity`. */
  IdentityPath: 5,
  /** A chain of names outside `$.identity` (e.g. `$.environment.name`): constant per environment. */
  Static: 6,
  /** Any other JSONPath: evaluated on the whole (lazily built) context. */
  Query: 7,
  /**
   * `$.flags.<feature name>…`: another flag's result, resolved on first read (flag dependencies).
   * `names[0]` is the feature name, the rest is followed through the flag result.
   */
  Flag: 8,
} as const;

/** One of the {@link PropertySource} codes. */
export type PropertySource = (typeof PropertySource)[keyof typeof PropertySource];

/** A property as compiled for one environment. `index` addresses the per-evaluation value cache. */
export class CompiledProperty {
  constructor(
    /** Slot in the per-evaluation value cache. */
    readonly index: number,
    /** The property text, also the literal trait key checked first for `$.` paths. */
    readonly text: string,
    readonly source: PropertySource,
    /** Names after `identity` for identity paths; the trait key for {@link PropertySource.IdentityTrait}. */
    readonly names: readonly string[],
    /** The value of a {@link PropertySource.Static} path. */
    readonly staticValue: ContextValue,
    /** The compiled JSONPath for {@link PropertySource.Query}. */
    readonly query: JSONPathQuery | null,
  ) {}
}

/**
 * Whether reading the property may depend on other flags' results: a `$.flags.<name>` chain, or a
 * generic query (it runs on a context whose `flags` resolve a flag when a name selects it, as
 * `$..enabled` or `$.flags['a','b'].value` do, and list the flags resolved so far).
 */
export function readsFlags(property: CompiledProperty): boolean {
  return property.source === PropertySource.Flag || property.source === PropertySource.Query;
}

function nameChain(query: JSONPathQuery): string[] | null {
  const names: string[] = [];
  for (const segment of query.segments) {
    if (segment.toString().startsWith('..') || segment.selectors.length !== 1) return null;
    const selector = segment.selectors[0];
    if (!(selector instanceof jsonpath.selectors.NameSelector)) return null;
    names.push(selector.name);
  }
  return names;
}

/**
 * Follows `names` through nested objects by own properties, as a chain of RFC 9535 name selectors
 * does. Returns `undefined` when the path selects nothing.
 */
export function followNames(root: unknown, names: readonly string[], from = 0): unknown {
  let node = root;
  for (let index = from; index < names.length; index += 1) {
    const name = names[index] ?? '';
    if (!isRecord(node) || !hasOwn(node, name)) return undefined;
    node = node[name];
  }
  return node;
}

/** A JSONPath result: primitives are coerced, objects and arrays count as None. */
export function jsonPathContextValue(node: unknown): ContextValue {
  return toContextValue(node, NonPrimitive.None);
}

/** The context key under which conditions read other flags' results (`$.flags.<name>.enabled`). */
export const FLAGS_KEY = 'flags';

/** Interns the properties of an environment's conditions, so each is resolved once per evaluation. */
export class PropertyTable {
  private readonly byText = new Map<string, CompiledProperty>();
  /** How many interned properties may read flags (see {@link readsFlags}). */
  private flagReaders = 0;
  /** How many interned properties are generic queries. */
  private queries = 0;

  /** @param contextWithoutIdentity - the environment's context, for constant paths. */
  constructor(private readonly contextWithoutIdentity: Record<string, unknown>) {}

  /** Number of distinct properties, the size of the per-evaluation cache. */
  get size(): number {
    return this.byText.size;
  }

  /**
   * Whether some condition may read another flag, through a `$.flags.<name>` chain or a generic
   * query: only then does an evaluation need the dependency machinery.
   */
  get hasFlagReaders(): boolean {
    return this.flagReaders > 0;
  }

  /** Whether some condition runs a generic query (it may see every flag resolved so far). */
  get hasQueries(): boolean {
    return this.queries > 0;
  }

  /**
   * Whether some condition reads the context's `features` or `segments` as a constant (a path
   * such as `$.features.x.value`): its value was taken from the context at compile time.
   */
  get readsDefinitions(): boolean {
    for (const property of this.byText.values()) {
      if (property.source === PropertySource.Static && (property.names[0] === 'features' || property.names[0] === 'segments')) return true;
    }
    return false;
  }

  /** The compiled form of `text`, shared by every condition using the same property. */
  intern(text: string): CompiledProperty {
    let property = this.byText.get(text);
    if (property === undefined) {
      property = this.compile(text, this.byText.size);
      this.byText.set(text, property);
      if (readsFlags(property)) this.flagReaders += 1;
      if (property.source === PropertySource.Query) this.queries += 1;
    }
    return property;
  }

  private compile(text: string, index: number): CompiledProperty {
    if (!text.startsWith('$.')) return new CompiledProperty(index, text, PropertySource.Trait, [], NONE, null);
    let query: JSONPathQuery;
    try {
      query = compileJsonPath(text);
    } catch {
      // Not a valid JSONPath: Flagsmith then reads the trait with that literal key.
      return new CompiledProperty(index, text, PropertySource.LiteralTrait, [], NONE, null);
    }
    const names = nameChain(query);
    if (names === null) return new CompiledProperty(index, text, PropertySource.Query, [], NONE, query);
    if (names[0] === FLAGS_KEY) {
      // `$.flags` itself is the mapping of results, never a primitive: a constant None. Any longer
      // chain reads the named flag, which resolves it, even when the rest then selects nothing.
      if (names.length === 1) return new CompiledProperty(index, text, PropertySource.Static, names, NONE, null);
      return new CompiledProperty(index, text, PropertySource.Flag, names.slice(1), NONE, null);
    }
    if (names[0] !== 'identity') {
      const value = jsonPathContextValue(followNames(this.contextWithoutIdentity, names));
      return new CompiledProperty(index, text, PropertySource.Static, names, value, null);
    }
    const rest = names.slice(1);
    if (rest.length === 1 && rest[0] === 'identifier') {
      return new CompiledProperty(index, text, PropertySource.IdentityIdentifier, rest, NONE, null);
    }
    if (rest.length === 1 && rest[0] === 'key') {
      return new CompiledProperty(index, text, PropertySource.IdentityKey, rest, NONE, null);
    }
    if (rest.length === 2 && rest[0] === 'traits') {
      return new CompiledProperty(index, text, PropertySource.IdentityTrait, rest.slice(1), NONE, null);
    }
    return new CompiledProperty(index, text, PropertySource.IdentityPath, rest, NONE, null);
  }
}

/**
 * Per-evaluation state: the identity being evaluated, a cache of resolved property values (each
 * property is resolved at most once per evaluation; reads of other flags excepted), the lazily
 * built context document for generic JSONPath queries, and the last segment split hash.
 */
import { FLAGS_KEY, followNames, jsonPathContextValue, PropertySource, type CompiledProperty } from './context-property';
import { NONE, NonPrimitive, toContextValue, type ContextValue } from './context-value';
import { hashedPercentageForPair } from './hashing';
import type { EvaluationTracer } from './evaluation-tracer';
import { hasOwn } from './json-shape';

/** What a scope needs from the compiled environment. */
export interface ScopeEnvironment {
  /** Number of distinct condition properties. */
  readonly propertyCount: number;
  /** The context's top-level entries in document order, identity excluded. */
  readonly documentEntries: ReadonlyArray<readonly [string, unknown]>;
  /** Position of `identity` among the context's top-level keys, or -1. */
  readonly identityPosition: number;
}

/** Reads other flags' results for conditions on `$.flags.<name>…` (environments with flag dependencies). */
export interface FlagReader {
  /** The value of a {@link PropertySource.Flag} property; resolves the flag on first read. */
  readFlag(property: CompiledProperty): ContextValue;
  /** The context's `flags` for generic queries: resolves a flag when a name selects it. */
  readonly document: Record<string, unknown>;
}

/** The identity of an evaluation, after key enrichment. */
export interface ScopeIdentity {
  /** The identity as given, for paths that reach into it. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly identifier: unknown;
  /** The identity key, or `<environment key>_<identifier>` when none was given. */
  readonly key: unknown;
  /** Python `str()` of the key, as hashed. */
  readonly keyText: string;
  /** The traits when they form an object. */
  readonly traits: Readonly<Record<string, unknown>> | null;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty keeps a `__proto__` key an ordinary own property.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Mutable state of one evaluation. Not shared between evaluations. */
export class EvaluationScope {
  private readonly values: Array<ContextValue | undefined>;
  private identityDocument: Record<string, unknown> | undefined;
  private contextDocument: Record<string, unknown> | undefined;
  /** Split hashes computed so far (few per evaluation, so scanned linearly); created on first use. */
  private splits: { segmentKeys: string[]; splitKeys: string[]; values: number[] } | undefined;
  /** Set for environments with flag dependencies, before any condition is evaluated. */
  flags: FlagReader | null = null;

  constructor(
    private readonly environment: ScopeEnvironment,
    /** `null` when evaluating without an identity. */
    readonly identity: ScopeIdentity | null,
    /** Observes what the evaluation reads and decides; `null` on the serving path. */
    readonly tracer: EvaluationTracer | null = null,
  ) {
    this.values = new Array<ContextValue | undefined>(environment.propertyCount);
  }

  /**
   * The context value of a property, resolved once per evaluation. Reads of other flags are not
   * kept: a flag caught in a cycle reads as None yet must be tried again on every read, as the
   * reference does, and generic queries see flags resolved since.
   */
  resolve(property: CompiledProperty): ContextValue {
    const cached = this.values[property.index];
    if (cached !== undefined) return cached;
    const value = this.lookup(property);
    if (this.flags === null || (property.source !== PropertySource.Flag && property.source !== PropertySource.Query)) {
      this.values[property.index] = value;
    }
    return value;
  }

  /** `hash%([segmentKey, splitKey])`, computed at most once per pair and evaluation. */
  splitPercentage(segmentKey: string, splitKey: string): number {
    const splits = (this.splits ??= { segmentKeys: [], splitKeys: [], values: [] });
    for (let index = 0; index < splits.values.length; index += 1) {
      if (splits.segmentKeys[index] === segmentKey && splits.splitKeys[index] === splitKey) return splits.values[index] ?? Number.NaN;
    }
    const value = hashedPercentageForPair(segmentKey, splitKey);
    splits.segmentKeys.push(segmentKey);
    splits.splitKeys.push(splitKey);
    splits.values.push(value);
    return value;
  }

  private lookup(property: CompiledProperty): ContextValue {
    const traits = this.identity?.traits ?? null;
    if (traits !== null && hasOwn(traits, property.text)) {
      const literal = traits[property.text];
      // A `$.` property only yields to a trait of the same name when that trait is set.
      if (property.source === PropertySource.Trait || (literal !== null && literal !== undefined)) {
        return toContextValue(literal, NonPrimitive.Stringify);
      }
    }
    const identity = this.identity;
    switch (property.source) {
      case PropertySource.Trait:
      case PropertySource.LiteralTrait:
        return NONE;
      case PropertySource.Static:
        return property.staticValue;
      case PropertySource.IdentityIdentifier:
        return identity === null ? NONE : jsonPathContextValue(identity.identifier);
      case PropertySource.IdentityKey:
        return identity === null ? NONE : jsonPathContextValue(identity.key);
      case PropertySource.IdentityTrait: {
        const name = property.names[0] ?? '';
        return traits !== null && hasOwn(traits, name) ? jsonPathContextValue(traits[name]) : NONE;
      }
      case PropertySource.IdentityPath:
        return identity === null ? NONE : jsonPathContextValue(followNames(this.getIdentityDocument(identity), property.names));
      case PropertySource.Query:
        return this.runQuery(property);
      case PropertySource.Flag:
        return this.flags === null ? NONE : this.flags.readFlag(property);
    }
  }

  private runQuery(property: CompiledProperty): ContextValue {
    if (property.query === null) return NONE;
    try {
      const node = property.query.match(this.getContextDocument() as Parameters<typeof property.query.match>[0]);
      return node === undefined ? NONE : jsonPathContextValue(node.value);
    } catch {
      return NONE;
    }
  }

  private getIdentityDocument(identity: ScopeIdentity): Record<string, unknown> {
    if (this.identityDocument === undefined) {
      const document: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(identity.raw)) defineOwn(document, key, value);
      defineOwn(document, 'key', identity.key);
      this.identityDocument = document;
    }
    return this.identityDocument;
  }

  /**
   * The enriched context as a JSON document, built on first use by a generic JSONPath. Its `flags`
   * are the flags resolved so far (a live object), replacing any `flags` the context came with.
   */
  private getContextDocument(): Record<string, unknown> {
    if (this.contextDocument === undefined) {
      const document: Record<string, unknown> = {};
      const { documentEntries, identityPosition } = this.environment;
      const identityValue = this.identity === null ? null : this.getIdentityDocument(this.identity);
      const flags = this.flags === null ? {} : this.flags.document;
      documentEntries.forEach(([key, value], index) => {
        if (index === identityPosition) defineOwn(document, 'identity', identityValue);
        defineOwn(document, key, key === FLAGS_KEY ? flags : value);
      });
      if (identityPosition < 0 || identityPosition >= documentEntries.length) {
        if (identityValue !== null || identityPosition >= 0) defineOwn(document, 'identity', identityValue);
      }
      if (!hasOwn(document, FLAGS_KEY)) defineOwn(document, FLAGS_KEY, flags);
      this.contextDocument = document;
    }
    return this.contextDocument;
  }
}

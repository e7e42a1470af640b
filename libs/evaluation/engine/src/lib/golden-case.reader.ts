/**
 * Reader for golden evaluation cases in the format of Flagsmith's engine test data: one JSONC
 * document `{ context, result }` per file, possibly starting with `//` comment lines.
 */
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { EvaluationOrder } from './environment.compiler';
import type { EvaluationContext } from './types/evaluation-context.types';
import type { EvaluationResult } from './types/evaluation-result.types';
import { FloatNumber } from './float-number';
import { isRecord } from './json-shape';

/** Trait values and variant weights are where Flagsmith tells `2.0` from `2`. */
function keepsFloatForm(path: readonly (string | number)[]): boolean {
  const isTraitValue = path.length === 4 && path[0] === 'context' && path[1] === 'identity' && path[2] === 'traits';
  return isTraitValue || path[path.length - 1] === 'weight';
}

/**
 * Builds the JSON value of a node like `JSON.parse` would, except that, where the engine needs to
 * know, numbers written as floats with an integral value (`2.0`, `1e3`) become
 * {@link FloatNumber}s and integers beyond 2^53 become bigints.
 */
function buildValue(node: Node, text: string, path: readonly (string | number)[]): unknown {
  switch (node.type) {
    case 'object': {
      const object: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (typeof keyNode?.value !== 'string' || valueNode === undefined) continue;
        const key = keyNode.value;
        Object.defineProperty(object, key, {
          value: buildValue(valueNode, text, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }
    case 'array':
      return (node.children ?? []).map((child, index) => buildValue(child, text, [...path, index]));
    case 'number': {
      const value: unknown = node.value;
      const lexeme = text.slice(node.offset, node.offset + node.length);
      if (typeof value !== 'number' || !Number.isInteger(value) || !keepsFloatForm(path)) return value;
      if (/[.eE]/.test(lexeme)) return new FloatNumber(value);
      // Python ints are exact at any size.
      return Number.isSafeInteger(value) ? value : BigInt(lexeme);
    }
    case 'string':
    case 'boolean':
    case 'null':
    case 'property': {
      const value: unknown = node.value;
      return value;
    }
  }
}

/** A parsed golden case. */
export interface GoldenCase {
  readonly context: EvaluationContext;
  /** The exact expected result. */
  readonly result: EvaluationResult;
  /** Written key order of `context.segments` / `context.features`, to pass to the engine. */
  readonly order: EvaluationOrder;
}

/**
 * Parses a golden case. Integral trait values and variant weights written as floats (`2.0`) are
 * read as {@link FloatNumber}s, as Flagsmith's reference engine reads them as floats, and big
 * integer traits as bigints. Throws on malformed JSONC or when `context` / `result` is missing: a
 * broken case file is a test-data error, not an input to evaluate.
 */
export function readGoldenCase(text: string): GoldenCase {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (tree === undefined || errors.length > 0) {
    const first = errors[0];
    throw new Error(first ? `invalid JSONC: ${printParseErrorCode(first.error)} at offset ${first.offset}` : 'empty document');
  }
  const document = buildValue(tree, text, []);
  if (!isRecord(document) || !isRecord(document['context']) || !isRecord(document['result'])) {
    throw new Error('a golden case needs a "context" object and a "result" object');
  }
  const keysAt = (path: string[]): string[] | undefined => {
    const node = findNodeAtLocation(tree, path);
    if (node?.type !== 'object') return undefined;
    return (node.children ?? []).flatMap((property) => {
      const key: unknown = property.children?.[0]?.value;
      return typeof key === 'string' ? [key] : [];
    });
  };
  return {
    context: document['context'] as unknown as EvaluationContext,
    result: document['result'] as unknown as EvaluationResult,
    order: { segments: keysAt(['context', 'segments']), features: keysAt(['context', 'features']) },
  };
}

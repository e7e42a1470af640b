/**
 * Structural comparison for golden results: objects compare by key set (order ignored, an absent
 * key differs from `null`), arrays by position, primitives with `Object.is` except that `0` and
 * `-0` are equal.
 */

function describe(value: unknown): string {
  if (value === undefined) return 'absent';
  return JSON.stringify(value) ?? `<${typeof value}>`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/** Lists the differences between `expected` and `actual` as readable lines; empty when equal. */
export function deepDiff(expected: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const lines: string[] = [];
    const length = Math.max(expected.length, actual.length);
    for (let index = 0; index < length; index += 1) {
      lines.push(...deepDiff(index < expected.length ? expected[index] : undefined, index < actual.length ? actual[index] : undefined, join(path, index)));
    }
    return lines;
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    const lines: string[] = [];
    for (const key of keys) {
      const has = (record: Record<string, unknown>): boolean => Object.prototype.hasOwnProperty.call(record, key);
      lines.push(...deepDiff(has(expected) ? expected[key] : undefined, has(actual) ? actual[key] : undefined, join(path, key)));
    }
    return lines;
  }
  const same = expected === actual || (typeof expected === 'number' && typeof actual === 'number' && Object.is(expected, actual));
  return same ? [] : [`${path || '(root)'}: expected ${describe(expected)}, got ${describe(actual)}`];
}

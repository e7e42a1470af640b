/**
 * `JSON.stringify` for deep-frozen documents that share unchanged parts with their previous
 * revisions: the text of each frozen object held in an array (a feature and its state, a segment,
 * an identity's overrides) is remembered by object, so writing an environment document of
 * thousands of features again after one toggle costs the toggled entry and the joins, not the
 * whole document. A frozen object cannot change, so what is remembered stays true; anything not
 * frozen is written as it is now. The text is byte for byte `JSON.stringify`'s for JSON values.
 */
const remembered = new WeakMap<object, string>();

export function frozenJson(value: unknown): string {
  return text(value, false) ?? 'null';
}

/** The text of a value; undefined where JSON.stringify leaves a property out. */
function text(value: unknown, element: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      break;
  }
  if (value === null) return 'null';
  const object = value;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(object);
  const remember = element && Object.isFrozen(object);
  if (remember) {
    const known = remembered.get(object);
    if (known !== undefined) return known;
  }
  let out: string;
  if (Array.isArray(object)) {
    const items: string[] = new Array<string>(object.length);
    for (let index = 0; index < object.length; index++) items[index] = text(object[index], true) ?? 'null';
    out = `[${items.join(',')}]`;
  } else {
    const fields: string[] = [];
    for (const key of Object.keys(object)) {
      const field = text((object as Record<string, unknown>)[key], false);
      if (field !== undefined) fields.push(`${JSON.stringify(key)}:${field}`);
    }
    out = `{${fields.join(',')}}`;
  }
  if (remember) remembered.set(object, out);
  return out;
}

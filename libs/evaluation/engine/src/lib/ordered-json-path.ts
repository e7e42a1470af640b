/**
 * The JSONPath environment generic queries run in. Wildcards, descendant segments and filters list
 * an object's members; JS objects list integer-like keys (segment ids such as `"92"`, a feature
 * named `"42"`) first, in numeric order, whereas the reference engine walks a Python dict in the
 * order its keys were inserted. Objects the engine builds for generic queries record their key
 * order here, and the environment lists them in that order; any other object keeps
 * `Object.entries`. Only generic queries consult it: name chains never list members.
 */
import { JSONPathEnvironment, type JSONPathQuery } from 'json-p3';

type JSONObject = Parameters<JSONPathEnvironment['entries']>[0];
type JSONEntry = ReturnType<JSONPathEnvironment['entries']>[number];

/** Key order of the objects whose members are listed in an order of their own. */
const keyOrders = new WeakMap<object, readonly string[]>();

/**
 * Makes generic queries list `object`'s members in the order of `keys`, which must hold every
 * listable key of the object. The array is read on each listing, so a live array (one that grows
 * as members are added) keeps the order of later members too.
 */
export function recordKeyOrder(object: object, keys: readonly string[]): void {
  keyOrders.set(object, keys);
}

class OrderedJsonPathEnvironment extends JSONPathEnvironment {
  override entries(obj: JSONObject): JSONEntry[] {
    const keys = keyOrders.get(obj);
    if (keys === undefined) return Object.entries(obj);
    return keys.map((key): JSONEntry => [key, obj[key]]);
  }
}

const environment = new OrderedJsonPathEnvironment();

/** Compiles a JSONPath for the engine (throws on an invalid path, as json-p3's `compile`). */
export function compileJsonPath(path: string): JSONPathQuery {
  return environment.compile(path);
}

/**
 * Shrinks a context on which the engines disagree: greedily removes parts (segments, features,
 * the identity and its traits, rules, conditions, overrides, variants, metadata, IN values) as long
 * as the disagreement it was found for remains, so a report shows only what the difference
 * needs.
 */
import { FloatNumber } from '@flagline/evaluation-engine';
import type { OracleCase } from './context-generator';

type Path = ReadonlyArray<string | number>;
interface Removal {
  readonly parent: Path;
  readonly key: string | number;
}

/** Members that the engines treat as optional wherever they appear. */
const OPTIONAL_MEMBERS = new Set(['metadata', 'variants', 'overrides', 'priority', 'conditions']);

function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => clone(item)) as T;
  if (typeof value === 'object' && value !== null && !(value instanceof FloatNumber)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clone(item)])) as T;
  }
  return value;
}

function isRemovableMember(parent: Path, key: string): boolean {
  const parentName = parent[parent.length - 1];
  if (parent.length === 0) return key === 'identity';
  if (parentName === 'identity' && parent.length === 1) return key === 'key' || key === 'traits';
  if (parentName === 'traits' || (parent.length === 1 && (parentName === 'segments' || parentName === 'features'))) return true;
  // A sub-rule's `rules` may go; a segment's may not (it is required).
  if (key === 'rules') return parent[parent.length - 2] === 'rules';
  return OPTIONAL_MEMBERS.has(key);
}

function removals(value: unknown, path: Path, found: Removal[]): Removal[] {
  if (Array.isArray(value)) {
    value.forEach((item: unknown, index) => {
      found.push({ parent: path, key: index });
      removals(item, [...path, index], found);
    });
  } else if (typeof value === 'object' && value !== null && !(value instanceof FloatNumber)) {
    for (const [key, item] of Object.entries(value)) {
      if (path.length === 0 && key === 'environment') continue;
      if (isRemovableMember(path, key)) found.push({ parent: path, key });
      removals(item, [...path, key], found);
    }
  }
  return found;
}

function without(oracleCase: OracleCase, removal: Removal): OracleCase {
  const context = clone(oracleCase.context);
  let parent: unknown = context;
  for (const step of removal.parent) parent = (parent as Record<string | number, unknown>)[step];
  if (Array.isArray(parent)) parent.splice(removal.key as number, 1);
  else delete (parent as Record<string, unknown>)[removal.key as string];
  const keep = (keys: readonly string[] | undefined, map: Record<string, unknown> | undefined): string[] | undefined => keys?.filter((key) => map !== undefined && key in map);
  return {
    ...oracleCase,
    context,
    order: { segments: keep(oracleCase.order.segments, context.segments), features: keep(oracleCase.order.features, context.features) },
  };
}

/**
 * The smallest case found, within `budget` checks, for which `stillFails` holds; `stillFails`
 * must hold for `oracleCase` itself.
 */
export async function minimise(oracleCase: OracleCase, stillFails: (candidate: OracleCase) => Promise<boolean>, budget = 400): Promise<OracleCase> {
  let current = oracleCase;
  let checks = 0;
  let shrunk = true;
  while (shrunk && checks < budget) {
    shrunk = false;
    // After a successful removal the parts before it are not tried again in this pass: they
    // were needed a moment ago, and the next pass gives them another chance.
    for (let index = 0; checks < budget; ) {
      const sites = removals(current.context, [], []);
      const removal = sites[index];
      if (removal === undefined) break;
      checks += 1;
      const candidate = without(current, removal);
      if (await stillFails(candidate)) {
        current = candidate;
        shrunk = true;
      } else {
        index += 1;
      }
    }
  }
  return current;
}

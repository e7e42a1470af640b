// What each event of a timeline changed: the project diff between the positions just before and
// at the event (the server's `diff`), or, where the server has no diff, the fields of the event's
// data against the same fields in the entity's earlier events.
import { ApiError, path } from './api.js';

/**
 * @typedef {{ kind: string, id: number | string, name?: string }} ChangedEntity
 * @typedef {{ entity?: ChangedEntity, scope: string, field: string, before: unknown, after: unknown }} Change
 * @typedef {{ position: number, type: string, occurredAt: string, actor: { kind: string, id: string | number, name?: string }, correlationId: string, data: unknown }} HistoryEntry
 */

/** Data fields that say which entity an event is about rather than what changed. */
const SCOPE_KEYS = ['environmentId', 'featureId', 'segmentId', 'identifier'];
const NOT_CHANGES = new Set([...SCOPE_KEYS, 'organisationId', 'projectId', 'identityId', 'featureStateId', 'featureStateUuid', 'environmentStates', 'createdAt', 'schemaVersion', 'floats']);

/**
 * The fields an event sets, with their values: its data, except an identity's traits, which are
 * one field each (`trait plan`), a removed trait set to null.
 * @param {string} type
 * @param {Record<string, unknown>} data
 * @returns {[string, unknown][]}
 */
function fieldsOf(type, data) {
  /** @type {(values: unknown) => [string, unknown][]} */
  const traits = (values) => (values && typeof values === 'object' ? Object.entries(values).map(([key, value]) => [`trait ${key}`, value]) : []);
  if (type === 'IdentityCreated') return [...Object.entries(data).filter(([field]) => field !== 'traits'), ...traits(data['traits'])];
  if (type === 'IdentityTraitsChanged') {
    const removed = Array.isArray(data['removed']) ? data['removed'] : [];
    return [...traits(data['set']), ...removed.map((key) => /** @type {[string, unknown]} */ ([`trait ${String(key)}`, null]))];
  }
  return Object.entries(data);
}

const same = (/** @type {unknown} */ a, /** @type {unknown} */ b) => JSON.stringify(a) === JSON.stringify(b);

/** Folds an entity's events in log order, remembering the last value of each field in each scope. */
export class HistoryFold {
  constructor() {
    /** @type {Map<string, unknown>} */
    this.values = new Map();
  }

  /**
   * The fields an event set that differ from what the earlier events left (a field first set has
   * no before), recorded for the events after it.
   * @param {HistoryEntry} entry
   * @returns {Change[]}
   */
  apply(entry) {
    const data = entry.data && typeof entry.data === 'object' ? /** @type {Record<string, unknown>} */ (entry.data) : {};
    const scopeOf = (/** @type {Record<string, unknown>} */ ids) => SCOPE_KEYS.filter((key) => ids[key] !== undefined).map((key) => `${key}=${String(ids[key])}`).join(',');
    const scope = scopeOf(data);
    /** @type {Change[]} */
    const changes = [];
    for (const [field, after] of fieldsOf(entry.type, data)) {
      if (NOT_CHANGES.has(field)) continue;
      const key = `${scope}|${field}`;
      const before = this.values.get(key);
      if (!this.values.has(key) || !same(before, after)) changes.push({ scope, field, before, after });
      this.values.set(key, after);
    }
    // A new feature's state in each environment starts from its defaults.
    if (entry.type === 'FeatureCreated' && Array.isArray(data['environmentStates'])) {
      for (const state of data['environmentStates']) {
        const stateScope = scopeOf({ environmentId: state.environmentId, featureId: data['featureId'] });
        this.values.set(`${stateScope}|enabled`, data['defaultEnabled']);
        this.values.set(`${stateScope}|value`, data['initialValue']);
        this.values.set(`${stateScope}|allocations`, []);
      }
    }
    // The order of a feature's segment overrides in an environment, as creations and removals leave it.
    if (entry.type === 'SegmentOverrideCreated' || entry.type === 'SegmentOverrideRemoved') {
      const key = `${scopeOf({ environmentId: data['environmentId'], featureId: data['featureId'] })}|segmentIds`;
      const order = /** @type {unknown[]} */ (this.values.get(key) ?? []).filter((segmentId) => segmentId !== data['segmentId']);
      if (entry.type === 'SegmentOverrideCreated') order.splice(typeof data['priority'] === 'number' ? data['priority'] : order.length, 0, data['segmentId']);
      this.values.set(key, order);
    }
    return changes;
  }
}

/** Answers of the diff route that mean this server has none (or none for these positions). */
const NO_DIFF = new Set([400, 404, 405, 501]);

/** The server's project diff, asked once per event; after an answer saying it has none, not asked again. */
export class ProjectDiff {
  /**
   * @param {import('./api.js').AdminApi} api
   * @param {string} project
   */
  constructor(api, project) {
    this.api = api;
    this.project = project;
    /** @type {string | null} why the server's diff is not used */
    this.unavailable = null;
  }

  /**
   * The changes the event at a position made, as the server's diff reports them (only the
   * changes the event is behind), or null when the server has no diff.
   * @param {number} position
   * @returns {Promise<Change[] | null>}
   */
  async at(position) {
    if (this.unavailable !== null || position < 2) return null;
    try {
      /** @type {import('./api.js').Answer<Partial<import('./types').Diff> | null>} */
      const { body } = await this.api.get(path('projects', this.project, 'diff'), { from: position - 1, to: position });
      if (!body || !Array.isArray(body.changes)) {
        this.unavailable = 'the diff answer has no changes list';
        return null;
      }
      return body.changes
        .filter((change) => Array.isArray(change.events) && change.events.some((event) => event.position === position))
        .map((change) => ({
          entity: change.entity,
          scope: '',
          field: change.field,
          before: change.before,
          after: change.after,
        }));
    } catch (error) {
      if (error instanceof ApiError && NO_DIFF.has(error.status)) {
        this.unavailable = error.describe();
        return null;
      }
      throw error;
    }
  }
}

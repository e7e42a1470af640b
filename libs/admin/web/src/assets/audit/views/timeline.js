// An entity's history as a timeline, in log order, a page at a time: who did what, when, and the
// before and after of each field the change touched.
import { ApiError, describeError, path } from '../api.js';
import { h, message, replace, table } from '../dom.js';
import { link } from '../router.js';
import { render } from '../shell.js';
import { ENTITY_KINDS, entityKindNamed } from '../entities.js';
import { HistoryFold, ProjectDiff } from '../changes.js';
import { projectCrumbs } from './browse.js';

const PAGE_SIZE = 20;

/** @typedef {import('../types').HistoryEntry} HistoryEntry */

/**
 * Names of a project's environments, features and segments by id, for labelling changes.
 * @param {import('../api.js').AdminApi} api
 * @param {string} project
 */
async function projectNames(api, project) {
  /** @type {import('../entities.js').KindName[]} */
  const kinds = ['environment', 'feature', 'segment'];
  const [environments, features, segments] = await Promise.all(
    kinds.map((kind) => {
      /** @type {Promise<{items: {id: number, name: string}[]}>} */
      const list = api.all(ENTITY_KINDS[kind].list(project));
      return list;
    }),
  );
  /** @param {{items: {id: number, name: string}[]} | undefined} list */
  const byId = (list) => new Map((list?.items ?? []).map((item) => [String(item.id), item.name]));
  return { environmentId: byId(environments), featureId: byId(features), segmentId: byId(segments) };
}

/**
 * @param {import('../api.js').AdminApi} api
 * @param {Record<string, string>} parameters organisation, project, kind, id (and environment for an identity)
 */
export async function timelineView(api, parameters) {
  const { organisation = '', project = '', kind = '', id = '', environment } = parameters;
  const entityKind = entityKindNamed(kind);
  const { crumbs } = await projectCrumbs(api, organisation, project);
  if (!entityKind) return void render('Not found', crumbs, message('alert', `There is no kind of entity called "${kind}".`));
  let name = `${entityKind.label} ${id}`;
  try {
    /** @type {import('../api.js').Answer<Record<string, unknown>>} */
    const read = await api.get(entityKind.read(project, id, environment));
    name = entityKind.name(read.body);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    // History outlives the entity: a deleted one is named as the event that created it named it.
    /** @type {{results: HistoryEntry[]}} */
    const firstPage = await api.page(entityKind.history(project, id, environment), { pageSize: 1 });
    const [first] = firstPage.results;
    const data = first && typeof first.data === 'object' && first.data !== null ? /** @type {Record<string, unknown>} */ (first.data) : {};
    name = `${entityKind.name(data) || `${entityKind.label} ${id}`} (deleted)`;
  }
  /** @type {Record<string, Map<string, string>>} */
  const labels = await projectNames(api, project);
  const scopeLabel = (/** @type {string} */ scope) =>
    scope
      .split(',')
      .filter(Boolean)
      .map((part) => {
        const [key = '', value = ''] = part.split('=');
        return labels[key]?.get(value) ?? `${key.replace(/Id$/, '')} ${value}`;
      })
      .join(' · ');

  /**
   * Where a change of the server's diff happened: kinds inside an environment have ids starting
   * with the environment's (`featureState` is `<environment>:<feature>`).
   * @param {import('../changes.js').ChangedEntity} entity
   */
  const entityLabel = (entity) => {
    const name = entity.name ?? String(entity.id);
    const [environmentId = ''] = String(entity.id).split(':');
    const environmentName = labels['environmentId']?.get(environmentId) ?? `environment ${environmentId}`;
    switch (entity.kind) {
      case 'featureState':
        return `${environmentName} · ${name}`;
      case 'segmentOverride':
        return `${environmentName} · segment override ${name}`;
      case 'segmentOverrideOrder':
        return `${environmentName} · override order of ${name}`;
      case 'serverKey':
        return `${environmentName} · server key ${name}`;
      default:
        return `${entity.kind} ${name}`;
    }
  };
  /**
   * An override order (segment ids, strongest first) as the segments' names; any other value as it is.
   * @param {string} field
   * @param {unknown} value
   */
  const readable = (field, value) =>
    (field === 'order' || field === 'segmentIds') && Array.isArray(value) ? value.map((segmentId) => labels['segmentId']?.get(String(segmentId)) ?? `segment ${String(segmentId)}`) : value;
  /**
   * The server's diff names a whole entity added or removed with the field `entity`.
   * @param {import('../changes.js').Change} change
   */
  const fieldLabel = (change) => (change.field !== 'entity' ? change.field : change.before === null ? '(created)' : change.after === null ? '(deleted)' : 'entity');
  const fold = new HistoryFold();
  const diff = new ProjectDiff(api, project);
  const list = h('ol', { class: 'timeline', 'aria-label': `History of ${name}` });
  const status = h('div', { 'aria-live': 'polite' });
  const more = h('div');
  const diffNotice = h('div');
  render(
    `${entityKind.label}: ${name}`,
    crumbs.concat([{ label: name }]),
    h('p', {}, h('a', { href: link(['o', organisation, 'p', project, 'at']) }, 'See the project as of a point in time')),
    h('h2', {}, 'History'),
    diffNotice,
    list,
    more,
    status,
  );

  /** @param {import('../changes.js').HistoryEntry} entry */
  const renderEntry = async (entry) => {
    const folded = fold.apply(entry);
    const fromServer = await diff.at(entry.position);
    const useServer = fromServer !== null && fromServer.length > 0;
    const changes = useServer ? fromServer : folded;
    const whereOf = (/** @type {import('../changes.js').Change} */ change) => (change.entity ? entityLabel(change.entity) : scopeLabel(change.scope));
    const actor = entry.actor ?? { kind: 'unknown', id: '' };
    const previous = entry.position - 1;
    return h(
      'li',
      { dataset: { position: String(entry.position) } },
      h('article', { 'aria-labelledby': `event-${entry.position}` },
        h('h3', { id: `event-${entry.position}`, tabindex: '-1' }, entry.type),
        h('p', { class: 'meta' },
          'By ', h('strong', {}, actor.name ?? `${actor.kind} ${actor.id}`), ` (${actor.kind} ${actor.id})`,
          ' at ', h('time', { datetime: entry.occurredAt }, entry.occurredAt),
          ` · log position ${entry.position} · correlation id `, h('code', {}, entry.correlationId),
        ),
        changes.length === 0
          ? h('p', { class: 'hint' }, 'No field changed (the event names the entity only).')
          : table(
              `Changes at position ${entry.position} (${useServer ? "from the server's diff" : 'from the event data and earlier events'})`,
              ['Where', 'Field', 'Before', 'After'],
              changes.map((change) => [
                whereOf(change) || '—',
                fieldLabel(change),
                { className: 'before', value: readable(change.field, change.before) },
                { className: 'after', value: readable(change.field, change.after) },
              ]),
            ),
        previous >= 1 ? h('p', {}, h('a', { href: link(['o', organisation, 'p', project, 'at'], { asOf: previous }) }, `The project just before this change (position ${previous})`)) : null,
      ),
    );
  };

  /** @param {string | undefined} after */
  const loadPage = async (after) => {
    replace(status, h('p', {}, 'Loading…'));
    /** @type {{results: HistoryEntry[], next: string | null}} */
    const page = await api.page(entityKind.history(project, id, environment), { pageSize: PAGE_SIZE, after });
    for (const entry of page.results) list.appendChild(await renderEntry(entry));
    if (diff.unavailable !== null && diffNotice.childElementCount === 0)
      diffNotice.appendChild(message('notice', `The server's diff is not available (${diff.unavailable}); each change's before and after come from the event data and this entity's earlier events.`));
    replace(status, h('p', { class: 'hint' }, page.results.length === 0 && after === undefined ? 'No events.' : `${list.childElementCount} events shown${page.next ? '' : ', the whole history'}.`));
    replace(more);
    if (page.next) {
      const next = page.next;
      const onClick = async () => {
        const shown = list.childElementCount;
        try {
          await loadPage(next);
          /** @type {HTMLElement | null | undefined} */ (list.children[shown]?.querySelector('h3'))?.focus();
        } catch (error) {
          replace(status, message('alert', `The next events could not be read: ${describeError(error)}`));
        }
      };
      more.appendChild(h('button', { type: 'button', onClick }, 'Load more events'));
    }
  };
  await loadPage(undefined);
}

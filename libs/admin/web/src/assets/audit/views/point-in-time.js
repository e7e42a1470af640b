// A project as it was at a point in time: its features, environments with their feature states
// and segment overrides in priority order, and its segments, each read with `?asOf=` (an ISO-8601
// time or a log position). Every answer must say the log position it reflects
// (`X-Flagline-Position`); an answer without it is today's state, which is never shown as the past.
import { ApiError, path } from '../api.js';
import { h, message, replace, table } from '../dom.js';
import { link } from '../router.js';
import { render } from '../shell.js';
import { projectCrumbs } from './browse.js';

/** @typedef {import('../types').Feature} Feature */
/** @typedef {import('../types').Environment} Environment */
/** @typedef {import('../types').Segment} Segment */
/** @typedef {import('../types').FeatureState} FeatureState */
/** @typedef {import('../types').SegmentOverride} SegmentOverride */

/** Why the server cannot answer reads as of a point in time, when it says so. */
class NoTimeTravel extends Error {}

/** Most items of one collection the view reads; a longer one is cut and said to be. */
const MOST_ITEMS = 5000;

/**
 * Every item of a collection as of a point (of the type the caller names), refused when the
 * server does not say which position it read them at; a route cut at `MOST_ITEMS` is added to `cut`.
 * @template T
 * @param {import('../api.js').AdminApi} api
 * @param {string} route
 * @param {string} asOf
 * @param {string[]} cut
 * @returns {Promise<T[]>}
 */
async function allAsOf(api, route, asOf, cut) {
  /** @type {{items: T[], position: number | null, truncated: boolean}} */
  const answer = await api.all(route, { asOf }, MOST_ITEMS);
  if (answer.position === null) throw new NoTimeTravel(`the answer to ${route} carries no X-Flagline-Position header`);
  if (answer.truncated) cut.push(route);
  return answer.items;
}

/**
 * @param {import('../api.js').AdminApi} api
 * @param {Record<string, string>} parameters
 * @param {URLSearchParams} query
 */
export async function pointInTimeView(api, { organisation = '', project = '' }, query) {
  const { crumbs, projectName } = await projectCrumbs(api, organisation, project);
  const asOf = query.get('asOf') ?? '';
  const input = /** @type {HTMLInputElement} */ (h('input', { id: 'as-of', name: 'asOf', type: 'text', value: asOf, required: true, autocomplete: 'off', 'aria-describedby': 'as-of-hint', inputmode: 'text' }));
  // A local date and time, for those who would rather pick one: it fills the field with its UTC ISO time.
  const local = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'as-of-local',
      type: 'datetime-local',
      step: '1',
      onChange: () => {
        const time = new Date(local.value);
        if (!Number.isNaN(time.getTime())) input.value = time.toISOString();
      },
    })
  );
  const form = h(
    'form',
    {
      onSubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        location.hash = link(['o', organisation, 'p', project, 'at'], { asOf: input.value.trim() });
      },
    },
    h('label', { for: 'as-of' }, 'Point in time'),
    h('p', { class: 'hint', id: 'as-of-hint' }, 'An ISO-8601 time (2026-12-06T14:02:00Z) or a log position (a positive integer, as on the timeline).'),
    input,
    ' ',
    h('button', { type: 'submit' }, 'Show'),
    h('label', { for: 'as-of-local' }, 'Or pick a date and time (your time zone)'),
    local,
  );
  const results = h('div', { 'aria-live': 'polite' });
  const title = `${projectName} as of a point in time`;
  render(title, crumbs.concat([{ label: 'Point in time' }]), form, results);
  if (asOf === '') return void replace(results, h('p', { class: 'hint' }, 'Pick a point to see the project as it was then.'));
  replace(results, h('p', {}, 'Loading…'));
  try {
    replace(results, ...(await stateAt(api, project, asOf, (kind, id) => link(['o', organisation, 'p', project, kind, id]))));
  } catch (error) {
    if (error instanceof NoTimeTravel) return void replace(results, message('notice', `This server does not answer reads as of a point in time (${error.message}), so nothing is shown rather than today's state.`));
    if (error instanceof ApiError && (error.status === 400 || error.status === 404))
      return void replace(results, message('notice', `The project cannot be shown as of "${asOf}": ${error.describe()}`));
    throw error;
  }
}

/**
 * The sections of the project's state as of a point.
 * @param {import('../api.js').AdminApi} api
 * @param {string} project
 * @param {string} asOf
 * @param {(kind: string, id: number) => string} timeline the link to an entity's timeline
 * @returns {Promise<unknown[]>}
 */
async function stateAt(api, project, asOf, timeline) {
  /** An entity's name, linked to its timeline (deleted entities included: their history stays). */
  const named = (/** @type {string} */ kind, /** @type {{id: number, name: string}} */ entity) => h('a', { href: timeline(kind, entity.id) }, entity.name);
  const projectAnswer = await api.get(path('projects', project), { asOf });
  if (projectAnswer.position === null) throw new NoTimeTravel(`the answer to projects/${project} carries no X-Flagline-Position header`);
  /** @type {string[]} routes whose answer was cut */
  const cut = [];
  /** @type {Promise<Feature[]>} */
  const featuresRead = allAsOf(api, path('projects', project, 'features'), asOf, cut);
  /** @type {Promise<Environment[]>} */
  const environmentsRead = allAsOf(api, path('projects', project, 'environments'), asOf, cut);
  /** @type {Promise<Segment[]>} */
  const segmentsRead = allAsOf(api, path('projects', project, 'segments'), asOf, cut);
  const [featureItems, environments, segmentItems] = await Promise.all([featuresRead, environmentsRead, segmentsRead]);
  const perEnvironment = await Promise.all(
    environments.map(async (environment) => {
      /** @type {Promise<FeatureState[]>} */
      const statesRead = allAsOf(api, path('environments', environment.id, 'feature-states'), asOf, cut);
      /** @type {Promise<SegmentOverride[]>} */
      const overridesRead = allAsOf(api, path('environments', environment.id, 'segment-overrides'), asOf, cut);
      const [states, overrides] = await Promise.all([statesRead, overridesRead]);
      return { environment, states, overrides };
    }),
  );
  return [
    h('p', { class: 'notice', role: 'status' }, `As of "${asOf}": the log up to position `, h('strong', { id: 'as-of-position' }, String(projectAnswer.position)), '.'),
    cut.length > 0 ? message('alert', `Only the first ${MOST_ITEMS} items of ${cut.join(', ')} are shown.`) : null,
    h('h2', {}, 'Features'),
    featureItems.length === 0
      ? h('p', { class: 'hint' }, 'No features then.')
      : table(
          'Features',
          ['Name', 'Type', 'Default enabled', 'Initial value', 'Archived'],
          featureItems.map((feature) => [named('feature', feature), feature.type, feature.defaultEnabled, feature.initialValue, feature.isArchived]),
        ),
    h('h2', {}, 'Environments'),
    perEnvironment.length === 0 ? h('p', { class: 'hint' }, 'No environments then.') : null,
    perEnvironment.map(({ environment, states, overrides }) =>
      h(
        'section',
        { 'aria-label': `Environment ${environment.name}` },
        h('h3', {}, named('environment', environment)),
        table(
          `Feature states in ${environment.name}`,
          ['Feature', 'Enabled', 'Value', 'Multivariate allocations'],
          states.map((state) => [state.featureName, state.enabled, state.value, state.multivariateAllocations]),
        ),
        overrides.length === 0
          ? h('p', { class: 'hint' }, 'No segment overrides then.')
          : table(
              `Segment overrides in ${environment.name}, in priority order per feature (0 is the strongest)`,
              ['Feature', 'Priority', 'Segment', 'Enabled', 'Value'],
              overrides.map((override) => [override.featureName, override.priority, override.segmentName, override.enabled, override.value]),
            ),
      ),
    ),
    h('h2', {}, 'Segments'),
    segmentItems.length === 0 ? h('p', { class: 'hint' }, 'No segments then.') : table('Segments', ['Name', 'Description', 'Rules'], segmentItems.map((segment) => [named('segment', segment), segment.description, segment.rules])),
  ];
}

// Picking what to audit: organisations, then a project, then one of its entities.
/** @typedef {import('../types').Organisation} Organisation */
/** @typedef {import('../types').Project} Project */
/** @typedef {import('../types').Environment} Environment */
/** @typedef {import('../types').Identity} Identity */
import { path } from '../api.js';
import { h, message } from '../dom.js';
import { link } from '../router.js';
import { render } from '../shell.js';
import { ENTITY_KINDS } from '../entities.js';

/**
 * @param {import('../api.js').AdminApi} api
 */
export async function organisationsView(api) {
  /** @type {{items: Organisation[]}} */
  const { items } = await api.all('organisations');
  render(
    'Organisations',
    [{ label: 'Organisations' }],
    items.length === 0 ? message('notice', 'This key reaches no organisation.') : h('ul', {}, items.map((organisation) => h('li', {}, h('a', { href: link(['o', organisation.id]) }, organisation.name)))),
  );
}

/**
 * @param {import('../api.js').AdminApi} api
 * @param {Record<string, string>} parameters
 */
export async function projectsView(api, { organisation = '' }) {
  /** @type {Promise<import('../api.js').Answer<Organisation>>} */
  const organisationRead = api.get(path('organisations', organisation));
  /** @type {Promise<{items: Project[]}>} */
  const projectsRead = api.all('projects', { organisation });
  const [{ body: organisationView }, { items }] = await Promise.all([organisationRead, projectsRead]);
  render(
    organisationView.name,
    [{ label: 'Organisations', href: '#/' }, { label: organisationView.name }],
    h('h2', {}, 'Projects'),
    items.length === 0 ? message('notice', 'This organisation has no projects.') : h('ul', {}, items.map((project) => h('li', {}, h('a', { href: link(['o', organisation, 'p', project.id]) }, project.name)))),
  );
}

/**
 * The crumbs down to a project.
 * @param {import('../api.js').AdminApi} api
 * @param {string} organisation
 * @param {string} project
 * @returns {Promise<{ crumbs: import('../shell.js').Crumb[], projectName: string }>}
 */
export async function projectCrumbs(api, organisation, project) {
  /** @type {Promise<import('../api.js').Answer<Organisation>>} */
  const organisationRead = api.get(path('organisations', organisation));
  /** @type {Promise<import('../api.js').Answer<Project>>} */
  const projectRead = api.get(path('projects', project));
  const [{ body: organisationView }, { body: projectView }] = await Promise.all([organisationRead, projectRead]);
  return {
    projectName: projectView.name,
    crumbs: [
      { label: 'Organisations', href: '#/' },
      { label: organisationView.name, href: link(['o', organisation]) },
      { label: projectView.name, href: link(['o', organisation, 'p', project]) },
    ],
  };
}

/**
 * A project's entities to pick from, and its point-in-time view.
 * @param {import('../api.js').AdminApi} api
 * @param {Record<string, string>} parameters
 */
export async function projectView(api, { organisation = '', project = '' }) {
  const { crumbs, projectName } = await projectCrumbs(api, organisation, project);
  /** @type {import('../entities.js').KindName[]} */
  const kinds = ['feature', 'segment', 'environment', 'tag'];
  const lists = await Promise.all(
    kinds.map((kind) => {
      /** @type {Promise<{items: (Environment & Record<string, unknown>)[]}>} */
      const list = api.all(ENTITY_KINDS[kind].list(project));
      return list;
    }),
  );
  const environments = lists[2]?.items ?? [];
  const identities = await Promise.all(
    environments.map((environment) => {
      /** @type {Promise<{results: Identity[], next: string | null}>} */
      const page = api.page(path('environments', environment.id, 'identities'), { pageSize: 50 });
      return page;
    }),
  );
  const sections = kinds.map((kind, index) => {
    const entityKind = ENTITY_KINDS[kind];
    const items = lists[index]?.items ?? [];
    return h(
      'section',
      { 'aria-labelledby': `${kind}-heading` },
      h('h2', { id: `${kind}-heading` }, entityKind.plural),
      items.length === 0 ? h('p', { class: 'hint' }, 'None.') : h('ul', {}, items.map((item) => h('li', {}, h('a', { href: link(['o', organisation, 'p', project, kind, item.id]) }, entityKind.name(item))))),
    );
  });
  const identitySection = h(
    'section',
    { 'aria-labelledby': 'identity-heading' },
    h('h2', { id: 'identity-heading' }, 'Identities'),
    environments.length === 0 ? h('p', { class: 'hint' }, 'No environments.') : null,
    environments.map((environment, index) => {
      const page = identities[index];
      const fieldId = `identity-${environment.id}`;
      const input = /** @type {HTMLInputElement} */ (h('input', { id: fieldId, type: 'text', required: true, autocomplete: 'off' }));
      return h(
        'div',
        {},
        h('h3', {}, environment.name),
        page && page.results.length > 0
          ? h('ul', {}, page.results.map((identity) => h('li', {}, h('a', { href: link(['o', organisation, 'p', project, 'identity', environment.id, identity.identifier]) }, identity.identifier))))
          : h('p', { class: 'hint' }, 'No identities listed.'),
        page && page.next ? h('p', { class: 'hint' }, 'More identities than listed: open one by its identifier.') : null,
        h(
          'form',
          {
            'aria-label': `Open an identity of ${environment.name}`,
            onSubmit: (/** @type {SubmitEvent} */ event) => {
              event.preventDefault();
              if (input.value !== '') location.hash = link(['o', organisation, 'p', project, 'identity', environment.id, input.value]);
            },
          },
          h('label', { for: fieldId }, 'Identifier'),
          input,
          ' ',
          h('button', { type: 'submit' }, 'Open history'),
        ),
      );
    }),
  );
  render(
    projectName,
    crumbs.slice(0, -1).concat([{ label: projectName }]),
    h('p', {}, h('a', { href: link(['o', organisation, 'p', project, 'at']) }, 'See the project as of a point in time')),
    h('div', { class: 'columns' }, sections),
    identitySection,
  );
}

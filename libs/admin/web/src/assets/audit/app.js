// The auditor page: sign in with an admin key, pick an organisation, a project and an entity, and
// read the entity's history as a timeline with the diff of each change, or the project as of a
// point in time. Small ES modules, no build step: a fuller console can take the modules in as
// they are (api.js, router.js, dom.js, shell.js and the views).
import { AdminApi, ApiError, describeError, keyStore } from './api.js';
import { startRouter } from './router.js';
import { message } from './dom.js';
import { render } from './shell.js';
import { signInView } from './views/sign-in.js';
import { organisationsView, projectsView, projectView } from './views/browse.js';
import { timelineView } from './views/timeline.js';
import { pointInTimeView } from './views/point-in-time.js';

/**
 * A view that needs the admin API: without a key in this tab it shows the sign-in form, and comes
 * back to the same place once signed in.
 * @param {(api: AdminApi, parameters: Record<string, string>, query: URLSearchParams) => Promise<void>} view
 */
const signedIn = (view) => async (/** @type {Record<string, string>} */ parameters, /** @type {URLSearchParams} */ query) => {
  const key = keyStore.get();
  if (key === null) return signInView();
  try {
    await view(new AdminApi(key), parameters, query);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      keyStore.clear();
      return signInView('The key is no longer accepted: sign in again.');
    }
    render('Something went wrong', [{ label: 'Organisations', href: '#/' }], message('alert', describeError(error)));
  }
};

startRouter(
  [
    { pattern: '/', view: signedIn(organisationsView) },
    { pattern: '/o/:organisation', view: signedIn(projectsView) },
    { pattern: '/o/:organisation/p/:project', view: signedIn(projectView) },
    { pattern: '/o/:organisation/p/:project/at', view: signedIn(pointInTimeView) },
    { pattern: '/o/:organisation/p/:project/identity/:environment/:identifier', view: signedIn((api, parameters) => timelineView(api, { ...parameters, kind: 'identity', id: parameters['identifier'] ?? '' })) },
    { pattern: '/o/:organisation/p/:project/:kind/:id', view: signedIn((api, parameters) => timelineView(api, { ...parameters, kind: parameters['kind'] ?? '', id: parameters['id'] ?? '' })) },
  ],
  () => render('Not found', [{ label: 'Organisations', href: '#/' }], message('alert', 'No such view. Start again from the organisations.')),
);

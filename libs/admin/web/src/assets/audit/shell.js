// The page's frame: the title, the breadcrumb, the session controls and the main region. Every
// view renders through `render`, which moves focus to the new heading for keyboard and
// screen-reader users.
import { h, replace } from './dom.js';
import { keyStore } from './api.js';

/**
 * @typedef {{ label: string, href?: string }} Crumb
 */

/**
 * Shows a view: its heading, its place in the breadcrumb and its content.
 * @param {string} title
 * @param {Crumb[]} crumbs
 * @param {...unknown} content
 * @returns {HTMLElement} the main region, for views that fill it in later
 */
export function render(title, crumbs, ...content) {
  document.title = `${title} · Flagline audit`;
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  const heading = h('h1', { tabindex: '-1' }, title);
  replace(main, heading, ...content);
  replace(
    /** @type {HTMLElement} */ (document.getElementById('breadcrumb')),
    crumbs.length === 0 ? null : h('ol', {}, crumbs.map((crumb) => h('li', {}, crumb.href ? h('a', { href: crumb.href }, crumb.label) : h('span', { 'aria-current': 'page' }, crumb.label)))),
  );
  renderSession();
  heading.focus();
  return main;
}

/** The sign-out control while a key is held. */
function renderSession() {
  const session = /** @type {HTMLElement} */ (document.getElementById('session'));
  if (keyStore.get() === null) return replace(session);
  replace(
    session,
    h('button', {
      type: 'button',
      onClick: () => {
        keyStore.clear();
        location.hash = '#/';
        dispatchEvent(new HashChangeEvent('hashchange'));
      },
    }, 'Sign out'),
  );
}

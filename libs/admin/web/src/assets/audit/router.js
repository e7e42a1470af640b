// A tiny hash router: `#/o/1/p/2/feature/3` names a view and its parameters. The hash holds ids
// only (never the key), so links can be shared and the back button works without a server route.

/**
 * @typedef {{ pattern: string, view: (parameters: Record<string, string>, query: URLSearchParams) => void | Promise<void> }} Route
 */

/**
 * The parameters of a path matching a pattern (`:name` segments), or null.
 * @param {string} pattern
 * @param {string} path
 * @returns {Record<string, string> | null}
 */
export function match(pattern, path) {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  /** @type {Record<string, string>} */
  const parameters = {};
  for (let index = 0; index < want.length; index++) {
    const expected = /** @type {string} */ (want[index]);
    const actual = /** @type {string} */ (got[index]);
    if (expected.startsWith(':')) {
      try {
        parameters[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (expected !== actual) return null;
  }
  return parameters;
}

/**
 * A hash link to a view: each segment percent-encoded, an optional query.
 * @param {(string | number)[]} segments
 * @param {Record<string, string | number | undefined>} [query]
 */
export function link(segments, query = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return `#/${segments.map((segment) => encodeURIComponent(String(segment))).join('/')}${text ? `?${text}` : ''}`;
}

/**
 * Runs the view whose pattern matches the hash, now and on every change of it.
 * @param {Route[]} routes
 * @param {() => void} notFound
 */
export function startRouter(routes, notFound) {
  const run = () => {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path = '/', search = ''] = hash.split('?', 2);
    for (const route of routes) {
      const parameters = match(route.pattern, path);
      if (parameters) return void route.view(parameters, new URLSearchParams(search));
    }
    notFound();
  };
  addEventListener('hashchange', run);
  run();
}

/**
 * Goes to a view (a hash link).
 * @param {string} hash
 */
export function go(hash) {
  if (location.hash === hash) dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

// The admin API as the page reads it: one key per browser tab (sessionStorage, never a URL), JSON
// answers, errors in the API's one shape, and the log position a state read reflects.

const KEY_ITEM = 'flagline.adminKey';
const PREFIX = '/admin/v1';

/** The admin key of this tab: kept in sessionStorage, so it ends with the tab and never enters a URL or history. */
export const keyStore = {
  /** @returns {string | null} */
  get: () => sessionStorage.getItem(KEY_ITEM),
  /** @param {string} key */
  set: (key) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** An answer of the admin API that is not a success, with the API's `{statusCode, code, message, errors}`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {unknown} body
   */
  constructor(status, body) {
    const error = /** @type {import('./types').ErrorBody} */ (body && typeof body === 'object' ? body : {});
    super(typeof error.message === 'string' ? error.message : `HTTP ${status}`);
    this.status = status;
    /** @type {string | undefined} */
    this.code = typeof error.code === 'string' ? error.code : undefined;
    /** @type {{field: string, message: string}[]} */
    this.errors = Array.isArray(error.errors) ? error.errors : [];
  }

  /** The status, code and message, with each field the API named. */
  describe() {
    const fields = this.errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    return `HTTP ${this.status}${this.code ? ` ${this.code}` : ''}: ${this.message}${fields ? ` (${fields})` : ''}`;
  }
}

/**
 * What went wrong, for a message: an API error's status, code, message and fields, or any other error's text.
 * @param {unknown} error
 */
export function describeError(error) {
  return error instanceof ApiError ? error.describe() : String(error);
}

/**
 * A path from segments, each percent-encoded (identifiers and keys may hold any character).
 * @param {...(string | number)} segments
 */
export function path(...segments) {
  return segments.map((segment) => encodeURIComponent(String(segment))).join('/');
}

/**
 * An answer: its body (callers say what they expect it to be), and `position`, the
 * `X-Flagline-Position` header: the log position a state read reflects (null when the server sent none).
 * @template [T=unknown]
 * @typedef {{ body: T, position: number | null }} Answer
 */

export class AdminApi {
  /**
   * @param {string} key
   * @param {typeof fetch} [fetcher]
   */
  constructor(key, fetcher = (input, init) => fetch(input, init)) {
    this.key = key;
    this.fetcher = fetcher;
  }

  /**
   * GET a route under /admin/v1 with query parameters (undefined ones left out); the body is of the type the caller names.
   * @template [T=unknown]
   * @param {string} route
   * @param {Record<string, string | number | undefined>} [query]
   * @returns {Promise<Answer<T>>}
   */
  async get(route, query = {}) {
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') parameters.set(name, String(value));
    const search = parameters.toString();
    const response = await this.fetcher(`${PREFIX}/${route}${search ? `?${search}` : ''}`, {
      headers: { authorization: `Api-Key ${this.key}`, accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await response.text();
    /** @type {unknown} */
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { message: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, body);
    const header = response.headers.get('x-flagline-position');
    return { body: /** @type {T} */ (body), position: header !== null && /^\d+$/.test(header) ? Number(header) : null };
  }

  /**
   * One page of a collection (`{results, next}`), its items of the type the caller names.
   * @template [T=unknown]
   * @param {string} route
   * @param {Record<string, string | number | undefined>} [query]
   * @returns {Promise<{results: T[], next: string | null, position: number | null}>}
   */
  async page(route, query = {}) {
    const { body, position } = /** @type {Answer<import('./types').Page<T>>} */ (await this.get(route, query));
    return { results: body.results, next: body.next, position };
  }

  /**
   * Every item of a collection, following `next` (at most `limit` items, and `truncated` when there
   * were more), of the type the caller names.
   * @template [T=unknown]
   * @param {string} route
   * @param {Record<string, string | number | undefined>} [query]
   * @param {number} [limit]
   * @returns {Promise<{items: T[], position: number | null, truncated: boolean}>}
   */
  async all(route, query = {}, limit = 2000) {
    /** @type {T[]} */
    const items = [];
    /** @type {string | undefined} */
    let after;
    /** @type {number | null} */
    let position = null;
    do {
      /** @type {{results: T[], next: string | null, position: number | null}} */
      const page = await this.page(route, { ...query, pageSize: 500, after });
      items.push(...page.results);
      position = position ?? page.position;
      after = page.next ?? undefined;
    } while (after !== undefined && items.length < limit);
    return { items, position, truncated: after !== undefined };
  }
}

// Builds DOM nodes from data without ever parsing markup: every name and value the admin API
// returns is user input, so it only ever becomes a text node or an attribute value.

/**
 * An element with attributes, event listeners (`onClick`, `onSubmit`, ...) and children; strings and
 * numbers become text nodes, null/undefined/false are left out, arrays are flattened.
 * @param {string} tag
 * @param {Record<string, unknown>} [attributes]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on[A-Z]/.test(name) && typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    else if (name === 'dataset' && typeof value === 'object') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Node} parent
 * @param {unknown[]} children
 */
function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} element
 * @param {...unknown} children
 */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * A value as an auditor reads it: text as it is, anything else as JSON, absence as an em dash.
 * @param {unknown} value
 * @returns {string}
 */
export function show(value) {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * A table with a caption, column headings and rows of cells (a cell is a node, a value, or
 * `{ value, className }`).
 * @param {string} caption
 * @param {string[]} headings
 * @param {unknown[][]} rows
 * @returns {HTMLElement}
 */
export function table(caption, headings, rows) {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => cellOf(cell))))),
  );
}

/** @param {unknown} cell */
function cellOf(cell) {
  if (cell instanceof Node) return h('td', {}, cell);
  if (cell && typeof cell === 'object' && 'className' in cell && 'value' in cell) return h('td', { class: cell.className }, h('span', { class: 'value' }, show(cell.value)));
  return h('td', {}, h('span', { class: 'value' }, show(cell)));
}

/**
 * A message for the auditor: `alert` for what went wrong (announced), `notice` for what the page
 * cannot show and why.
 * @param {'alert' | 'notice'} kind
 * @param {...unknown} children
 */
export function message(kind, ...children) {
  return h('div', { class: kind, role: kind === 'alert' ? 'alert' : 'status' }, ...children);
}

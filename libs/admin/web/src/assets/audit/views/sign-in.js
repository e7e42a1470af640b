// Sign in with an admin API key (the instance key, a user's key or an organisation's key). The key
// is checked against the admin API before it is kept, in this tab's sessionStorage only.
import { AdminApi, ApiError, describeError, keyStore } from '../api.js';
import { h, message, replace } from '../dom.js';
import { render } from '../shell.js';

/**
 * @param {string} [reason] why the page asks again
 */
export function signInView(reason) {
  const status = h('div', { 'aria-live': 'polite' }, reason ? message('notice', reason) : null);
  const input = /** @type {HTMLInputElement} */ (h('input', { id: 'admin-key', name: 'admin-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'admin-key-hint' }));
  const form = h(
    'form',
    {
      'aria-label': 'Sign in',
      onSubmit: async (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (key === '') return replace(status, message('alert', 'Enter an admin API key.'));
        replace(status, h('p', {}, 'Checking the key…'));
        try {
          await new AdminApi(key).page('organisations', { pageSize: 1 });
        } catch (error) {
          input.value = '';
          input.focus();
          const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
          return replace(status, message('alert', refused ? `The key was refused (${error.describe()}).` : `The key could not be checked: ${describeError(error)}`));
        }
        keyStore.set(key);
        dispatchEvent(new HashChangeEvent('hashchange'));
      },
    },
    h('label', { for: 'admin-key' }, 'Admin API key'),
    h('p', { class: 'hint', id: 'admin-key-hint' }, 'The key you send as "Authorization: Api-Key <key>". It stays in this tab only (sessionStorage) and is sent to this server alone.'),
    input,
    ' ',
    h('button', { type: 'submit' }, 'Sign in'),
  );
  render('Sign in', [], form, status);
  input.focus();
}

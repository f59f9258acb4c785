// Log in: a built-in user (POST /v1/auth/login: a session token), or a token pasted
// as it is: an API key (Bearer) or a Keystone token (X-Auth-Token) when that backend
// is on.

import { ApiError, request, session } from '../api.js';
import { h, message } from '../dom.js';

export function loginPage(onLoggedIn) {
  const status = h('div', { class: 'login-status', 'aria-live': 'polite' });
  const show = (kind, text) => status.replaceChildren(message(kind, text));

  const username = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const project = h('input', { name: 'project', id: 'login-project', placeholder: 'only if you have roles in several' });
  const passwordForm = h('form', { class: 'login', id: 'login-form' },
    h('h2', { text: 'User and password' }),
    h('label', {}, 'User', username),
    h('label', {}, 'Password', password),
    h('label', {}, 'Project', project),
    h('button', { type: 'submit', class: 'primary' }, 'Log in'));
  passwordForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    show('info', 'Logging in…');
    try {
      const body = { username: username.value.trim(), password: password.value };
      if (project.value.trim()) body.project = project.value.trim();
      const { data } = await request('POST', '/v1/auth/login', { body, auth: false });
      session.set({ token: data.token, kind: 'bearer', fromLogin: true });
      password.value = '';
      const problem = await onLoggedIn();
      if (problem) show('error', problem);
    } catch (error) {
      show('error', error instanceof ApiError ? error.message : `cannot reach the server: ${error.message}`);
    }
  });

  const token = h('input', { name: 'token', id: 'login-token', type: 'password', autocomplete: 'off', required: true });
  const kind = h('select', { name: 'kind', id: 'login-token-kind' },
    h('option', { value: 'bearer' }, 'sdwan API key (Bearer)'),
    h('option', { value: 'keystone' }, 'Keystone token (X-Auth-Token)'));
  const tokenForm = h('form', { class: 'login', id: 'token-form' },
    h('h2', { text: 'Token' }),
    h('label', {}, 'Kind', kind),
    h('label', {}, 'Token', token),
    h('button', { type: 'submit', class: 'secondary' }, 'Use token'));
  tokenForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    session.set({ token: token.value.trim(), kind: kind.value, fromLogin: false });
    token.value = '';
    try {
      const problem = await onLoggedIn();
      if (problem) {
        session.clear();
        show('error', problem);
      }
    } catch (error) {
      session.clear();
      show('error', error.message);
    }
  });

  return h('main', { class: 'login-page' },
    h('h1', { text: 'sdwan — log in' }),
    h('p', { class: 'muted', text: 'The GoBGP fleet: intent, live sessions and routes.' }),
    h('div', { class: 'login-forms' }, passwordForm, tokenForm),
    status);
}

// The dashboard's shell: who is logged in, the navigation, the live stream's state,
// and hash routes (#/routers/ID) so that every page can be linked and reloaded.

import { FiringAlerts } from './alert_count.js';
import { api, request, session } from './api.js';
import { clear, h } from './dom.js';
import { EventStream } from './events.js';
import { alertsPage } from './pages/alerts.js';
import { auditPage } from './pages/audit.js';
import { eventsPage } from './pages/events.js';
import { fleetPage } from './pages/fleet.js';
import { loginPage } from './pages/login.js';
import { neighborPage, neighborsPage } from './pages/neighbors.js';
import { policyPage } from './pages/policy.js';
import { intentPage } from './pages/intent.js';
import { ribPage } from './pages/rib.js';
import { routerPage, routersPage } from './pages/routers.js';
import { sitePage } from './pages/site.js';
import { sitesPage } from './pages/sites.js';
import { topologyPage } from './pages/topology.js';

const NAV = [
  ['topology', 'Topology'],
  ['sites', 'Sites'],
  ['routers', 'Routers'],
  ['neighbors', 'Neighbors'],
  ['rib', 'Routes'],
  ['policy', 'Policy'],
  ['fleet', 'Fleet'],
  ['alerts', 'Alerts'],
  ['events', 'Events'],
  ['audit', 'Audit'],
];

const ROUTES = [
  [/^topology$/, topologyPage],
  [/^sites$/, sitesPage],
  [/^sites\/([^/]+)$/, (el, ctx, m) => sitePage(el, ctx, decodeURIComponent(m[1]))],
  [/^intents\/([^/]+)$/, (el, ctx, m) => intentPage(el, ctx, decodeURIComponent(m[1]))],
  [/^routers$/, routersPage],
  [/^routers\/new$/, (el, ctx) => routerPage(el, ctx, null)],
  [/^routers\/([^/]+)$/, (el, ctx, m) => routerPage(el, ctx, decodeURIComponent(m[1]))],
  [/^neighbors$/, neighborsPage],
  [/^neighbors\/new$/, (el, ctx) => neighborPage(el, ctx, null)],
  [/^neighbors\/([^/]+)$/, (el, ctx, m) => neighborPage(el, ctx, decodeURIComponent(m[1]))],
  [/^rib$/, ribPage],
  [/^policy$/, policyPage],
  [/^fleet$/, fleetPage],
  [/^alerts$/, alertsPage],
  [/^events$/, eventsPage],
  [/^audit$/, auditPage],
];

const stream = new EventStream();
const firingAlerts = new FiringAlerts(stream);
let me = null;
let cleanup = null;
const root = document.getElementById('app');

// The route and its query: "#/neighbors?router=R1" -> ["neighbors", {router: "R1"}]
export function currentRoute() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  return [path || 'topology', Object.fromEntries(new URLSearchParams(query))];
}

export function navigate(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined),
  ).toString();
  const target = `#/${path}${query ? `?${query}` : ''}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

// Replace the query of the current route without adding a history entry per keystroke.
export function setQuery(params) {
  const [path] = currentRoute();
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined),
  ).toString();
  window.history.replaceState(null, '', `#/${path}${query ? `?${query}` : ''}`);
}

function shell(content) {
  const [path] = currentRoute();
  const section = path.split('/')[0];
  const streamState = h('span', { class: 'stream', id: 'stream-state', title: 'live event stream' });
  const unsubscribeStream = stream.onStatus((status) => {
    streamState.textContent = status === 'live' ? '● live' : `○ ${status}`;
    streamState.dataset.status = status;
  });
  const firingBadge = h('span', { class: 'nav-count', id: 'alerts-firing', title: 'alerts firing' });
  const unsubscribeFiring = firingAlerts.onChange((count) => {
    firingBadge.textContent = count ? String(count) : '';
    firingBadge.dataset.count = String(count ?? 0);
    firingBadge.hidden = !count;
  });
  const header = h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/topology' }, 'sdwan'),
    h('nav', {}, NAV.map(([href, label]) => h('a', {
      href: `#/${href}`, class: section === href ? 'active' : '', 'aria-current': section === href ? 'page' : false,
    }, label, href === 'alerts' ? firingBadge : null))),
    h('div', { class: 'who' },
      streamState,
      h('span', { class: 'user', id: 'whoami', text: `${me.name} · ${me.role}${me.project ? ` · ${me.project}` : ' · all projects'}` }),
      h('button', { type: 'button', class: 'secondary', id: 'logout', on: { click: logout } }, 'Log out')));
  root.append(header, content);
  return () => { unsubscribeStream(); unsubscribeFiring(); };
}

async function logout() {
  const s = session.get();
  stream.stop();
  firingAlerts.stop();
  if (s && s.fromLogin) {
    try {
      await api.post('/v1/auth/logout');
    } catch {
      // already expired or revoked: nothing to revoke
    }
  }
  session.clear();
  me = null;
  navigate('login');
}

async function whoami() {
  try {
    // not through the 401 handler: a refused token is answered on the login page
    const { data } = await request('GET', '/v1/auth/whoami', { auth: false, headers: session.headers() });
    return data;
  } catch {
    return null;
  }
}

let renders = 0;

async function render() {
  const generation = ++renders;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.warn('page cleanup failed', error);
    }
  }
  cleanup = null;
  clear(root);
  const [path, query] = currentRoute();
  if (path === 'login' || !session.get()) {
    stream.stop();
    firingAlerts.stop();
    root.append(loginPage(async () => {
      me = await whoami();
      if (!me) return 'the server did not accept these credentials';
      const { last_id: lastId } = await api.get('/v1/events', { limit: 1 });
      stream.start(lastId);
      firingAlerts.start();
      navigate(query.next || 'topology');
      return null;
    }));
    return;
  }
  if (!me) {
    me = await whoami();
    if (!me) {
      session.clear();
      navigate('login', { next: path });
      return;
    }
    const { last_id: lastId } = await api.get('/v1/events', { limit: 1 });
    stream.start(lastId);
    firingAlerts.start();
    if (generation !== renders) return;
  }
  const ctx = {
    me,
    stream,
    canWrite: me.role === 'admin' || me.role === 'member',
    isAdmin: me.role === 'admin',
    query,
    navigate,
    setQuery,
  };
  const main = h('main', { id: 'page' });
  const unsubscribe = shell(main);
  const match = ROUTES.map(([re, page]) => [path.match(re), page]).find(([m]) => m);
  let pageCleanup = null;
  if (!match) {
    main.append(h('h1', { text: 'Not found' }), h('p', { text: `No page ${path}.` }));
  } else {
    try {
      pageCleanup = await match[1](main, ctx, match[0]);
    } catch (error) {
      main.append(h('p', { class: 'message error', role: 'alert', text: error.message }));
    }
  }
  const done = () => {
    unsubscribe();
    if (typeof pageCleanup === 'function') pageCleanup();
  };
  if (generation !== renders) done(); // another page was opened meanwhile
  else cleanup = done;
}

window.addEventListener('hashchange', render);
window.addEventListener('sdwan:unauthenticated', () => {
  if (!session.get()) return;
  stream.stop();
  firingAlerts.stop();
  session.clear();
  me = null;
  navigate('login', { next: currentRoute()[0] });
});
render();

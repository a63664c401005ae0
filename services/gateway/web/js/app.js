import { api } from './api.js';
import { h, replace, toast } from './dom.js';
import { opsPage } from './operations.js';
import { ordersPage } from './orders.js';
import { shopPage } from './storefront.js';
import { timelinePage } from './timeline.js';

// One session object shared by the pages: who is signed in (null when nobody).
const session = {
  user: null,
  async refresh() {
    // 200 with user null when signed out: a signed-out page logs no failed request.
    try {
      this.user = (await api.get('/api/session')).user;
    } catch {
      this.user = null;
    }
    renderSession();
  },
  async logOut() {
    await api.post('/api/logout', {});
    this.user = null;
    renderSession();
    location.hash = '#/shop';
    route();
  },
  signedIn(user) {
    this.user = user;
    renderSession();
    route();
  },
};

function renderSession() {
  const el = document.getElementById('session');
  if (!session.user) return replace(el, h('span', {}, 'Not signed in'));
  replace(
    el,
    h('span', {}, `${session.user.name} (${session.user.role})`),
    h('button', { type: 'button', class: 'secondary', onclick: () => session.logOut() }, 'Log out'),
  );
}

let cleanup = () => {};

function route() {
  cleanup();
  const main = document.getElementById('main');
  const hash = location.hash || '#/shop';
  const [, page, id] = hash.split('/');
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const pages = {
    shop: () => shopPage(main, session),
    orders: () => (id ? timelinePage(main, session, id) : ordersPage(main, session)),
    ops: () => opsPage(main, session),
  };
  cleanup = (pages[page] ?? pages.shop)() ?? (() => {});
  const heading = main.querySelector('h1');
  document.title = `${heading?.textContent ?? 'Conveyor'} · Conveyor console`;
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => toast(e.reason?.message ?? String(e.reason), 'error'));
await session.refresh();
route();

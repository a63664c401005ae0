import { api, live } from './api.js';
import { field, h, money, replace, short, toast, when } from './dom.js';

export function shopPage(main, session) {
  if (!session.user) {
    replace(main, h('h1', {}, 'Welcome to Conveyor'), authForms(session));
    return undefined;
  }
  const catalog = h(
    'section',
    { 'aria-labelledby': 'catalog-h' },
    h('h2', { id: 'catalog-h' }, 'Catalog'),
    h('p', {}, 'Loading…'),
  );
  const current = h(
    'section',
    { 'aria-labelledby': 'current-h', class: 'card' },
    h('h2', { id: 'current-h' }, 'Your latest order'),
  );
  const inbox = h('section', { 'aria-labelledby': 'inbox-h' }, h('h2', { id: 'inbox-h' }, 'Notifications'));
  const inboxList = h('ul', { class: 'inbox', 'aria-live': 'polite', id: 'inbox' });
  inbox.append(inboxList);
  replace(main, h('h1', {}, 'Store'), h('div', { class: 'columns' }, catalog, h('div', {}, current, inbox)));

  let stopOrder = () => {};
  const showOrder = (orderId) => {
    stopOrder();
    const status = h('p', { class: 'status', id: 'order-status', 'aria-live': 'polite' }, '…');
    const actions = h('div', { class: 'actions' });
    replace(current, h('h2', { id: 'current-h' }, 'Your latest order'), status, actions);
    stopOrder = live(`/api/events/orders/${orderId}`, {
      order: (order) => {
        replace(
          status,
          'Order ',
          h('strong', {}, short(order.id)),
          ' is ',
          h('span', { class: `badge ${order.status}`, 'data-status': order.status }, order.status),
          ` · ${money(order.total)} · placed `,
          h('time', { datetime: order.placedAt }, when(order.placedAt)),
          ` · version ${order.version}`,
        );
        replace(
          actions,
          orderActions(order, () => {}),
          h('a', { href: `#/orders/${order.id}`, class: 'button-link' }, 'Open timeline'),
        );
      },
      problem: (p) => toast(p.detail, 'error'),
    });
  };

  loadCatalog(catalog, async (items) => {
    try {
      const { order } = await api.post('/api/orders', { items }, { 'idempotency-key': crypto.randomUUID() });
      toast(`Order ${short(order.id)} placed`);
      showOrder(order.id);
    } catch (error) {
      toast(error.message, 'error');
    }
  });
  api.get('/api/orders').then(({ orders }) => {
    if (orders[0]) showOrder(orders[0].id);
    else current.append(h('p', {}, 'No orders yet: pick something from the catalog.'));
  });
  const stopInbox = live('/api/events/notifications', {
    notifications: ({ notifications }) =>
      replace(
        inboxList,
        notifications.length === 0
          ? h('li', {}, 'Nothing yet.')
          : notifications.map((n) =>
              h(
                'li',
                {},
                h('span', { class: `badge ${n.status}` }, n.status),
                ' ',
                h('strong', {}, n.subject),
                h('br'),
                h('small', {}, `${n.channel} to ${n.recipient} · ${when(n.createdAt)}`),
              ),
            ),
      ),
    problem: (p) => toast(p.detail, 'error'),
  });
  return () => {
    stopOrder();
    stopInbox();
  };
}

/** Pay / cancel for the owner; the gateway and the orders service decide what is allowed. */
export function orderActions(order, after) {
  const act = (path, body) => async () => {
    try {
      await api.post(`/api/orders/${order.id}/${path}`, body);
      after();
    } catch (error) {
      toast(error.message, 'error');
    }
  };
  return [
    order.status === 'placed' && h('button', { type: 'button', onclick: act('pay', {}) }, 'Pay'),
    (order.status === 'placed' || order.status === 'paid') &&
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: act('cancel', { reason: 'changed my mind' }) },
        'Cancel order',
      ),
  ];
}

async function loadCatalog(section, place) {
  const { products } = await api.get('/api/products');
  const inputs = new Map();
  const rows = products.map((p) => {
    const input = h('input', {
      type: 'number',
      min: '0',
      max: '1000',
      value: '0',
      inputmode: 'numeric',
      id: `qty-${p.sku}`,
    });
    inputs.set(p.sku, input);
    return h(
      'li',
      { class: 'product' },
      h('div', {}, h('strong', {}, p.name), h('br'), h('small', {}, p.description)),
      h('span', { class: 'price' }, money(p.price)),
      // "Quantity" on screen (the row names the product); "Quantity of <name>" for screen readers,
      // which still holds the visible word for voice control (WCAG 2.5.3).
      h(
        'div',
        { class: 'field' },
        h(
          'label',
          { for: input.id },
          h('span', { class: 'visible-label' }, 'Quantity'),
          h('span', { class: 'visually-hidden' }, ` of ${p.name}`),
        ),
        input,
      ),
    );
  });
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        const items = [...inputs]
          .map(([sku, input]) => ({ sku, quantity: Number(input.value) }))
          .filter((i) => i.quantity > 0);
        if (items.length === 0) return toast('Choose a quantity of at least one product', 'error');
        place(items);
      },
    },
    h('ul', { class: 'products' }, rows),
    h('button', { type: 'submit' }, 'Place order'),
  );
  replace(section, h('h2', { id: 'catalog-h' }, 'Catalog'), form);
}

function authForms(session) {
  const input = (attrs) => h('input', { required: true, ...attrs });
  const signIn = async (credentials) => {
    const { user } = await api.post('/api/login', credentials);
    toast(`Signed in as ${user.email}`);
    session.signedIn(user);
  };
  const submit = (path, read) => async (e) => {
    e.preventDefault();
    try {
      const body = read(new FormData(e.target));
      if (path === '/api/login') return await signIn(body);
      // Sign-up answers the same whether or not the address is taken; logging in tells the new owner.
      const { detail } = await api.post(path, body);
      await signIn({ email: body.email, password: body.password }).catch(() => toast(detail));
    } catch (error) {
      toast(error.message, 'error');
    }
  };
  const signUp = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'signup-h',
      onsubmit: submit('/api/signup', (d) => ({
        name: d.get('name'),
        email: d.get('email'),
        password: d.get('password'),
      })),
    },
    h('h2', { id: 'signup-h' }, 'Sign up'),
    field('Name', input({ name: 'name', autocomplete: 'name', id: 'signup-name' })),
    field('Email', input({ name: 'email', type: 'email', autocomplete: 'email', id: 'signup-email' })),
    field(
      'Password (12 characters or more)',
      input({
        name: 'password',
        type: 'password',
        minlength: '12',
        autocomplete: 'new-password',
        id: 'signup-password',
      }),
    ),
    h('button', { type: 'submit' }, 'Create account'),
  );
  const logIn = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'login-h',
      onsubmit: submit('/api/login', (d) => ({ email: d.get('email'), password: d.get('password') })),
    },
    h('h2', { id: 'login-h' }, 'Log in'),
    field('Email', input({ name: 'email', type: 'email', autocomplete: 'username', id: 'login-email' })),
    field(
      'Password',
      input({ name: 'password', type: 'password', autocomplete: 'current-password', id: 'login-password' }),
    ),
    h('button', { type: 'submit' }, 'Log in'),
  );
  return h('div', { class: 'columns' }, signUp, logIn);
}

import { h, replace } from './dom.js';

export function signInFirst(main, title) {
  replace(main, h('h1', {}, title), h('p', {}, 'Please ', h('a', { href: '#/shop' }, 'sign in'), ' first.'));
  return undefined;
}

export function adminsOnly(main, title) {
  replace(
    main,
    h('h1', {}, title),
    h('p', {}, 'This page is for administrators. Sign in with an admin account.'),
  );
  return undefined;
}

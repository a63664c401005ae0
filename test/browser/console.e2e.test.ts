import assert from 'node:assert/strict';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, waitUntil } from '@conveyor/stack';
import { TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD } from '@conveyor/stack/testing';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { blockOrderSequences } from '../../services/gateway/src/testing/blocked-sequences.ts';
import { type GatewayStack, startGatewayStack } from '../../services/gateway/src/testing/gateway-stack.ts';
import { publishPoison } from '../../services/gateway/src/testing/poison.ts';

const CHROMIUM = process.env.CONVEYOR_CHROMIUM ?? '/usr/bin/chromium';
const shots = join(repoRoot, 'test-results', 'browser');
const sizes = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

/**
 * The web console in a real browser (Debian's chromium driven by
 * playwright-core; no browser is downloaded) against the gateway and every
 * service as processes.
 */
describe('web console in chromium', () => {
  let stack: GatewayStack;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Every error the page logged (failed requests included), cleared where a test looks at them. */
  const consoleErrors: string[] = [];

  before(async () => {
    await mkdir(shots, { recursive: true });
    // Both settle before any failure is thrown, so after() stops a stack that came up beside a
    // browser that did not (a missing chromium used to leave the services running and the file hung).
    const [started, launched] = await Promise.allSettled([
      startGatewayStack('browser'),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      }),
    ]);
    if (started.status === 'fulfilled') stack = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    // A German browser: money, dates and relative times follow its locale, not the page's.
    const context = await browser.newContext({
      viewport: sizes.desktop,
      locale: 'de-DE',
      timezoneId: 'Europe/Berlin',
    });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      consoleErrors.push(message.text());
      if (/Content Security Policy|Refused to/i.test(message.text()))
        pageErrors.push(`csp: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** Screenshots at phone and desktop width, and an axe-core audit with no serious or critical violations. */
  async function capture(name: string): Promise<void> {
    for (const [size, viewport] of Object.entries(sizes)) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: true });
    }
    await page.setViewportSize(sizes.desktop);
    // Evaluated over the DevTools protocol, so the page's CSP (no inline scripts) stays on.
    await page.evaluate(axe.source);
    const violations = await page.evaluate(async () => {
      const g = globalThis as unknown as { axe: typeof axe; document: unknown };
      const result = await g.axe.run(g.document as never, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(violations, [], `${name}: accessibility violations`);
  }

  /**
   * Runs a test's steps; when one fails, saves the page as it was (test-results/browser/
   * failed-<name>.png, uploaded by CI with the other screenshots) and names the file in the error.
   */
  async function shotOnFailure(name: string, steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      const path = join(shots, `failed-${name}.png`);
      const saved = await page.screenshot({ path, fullPage: true }).then(
        () => `screenshot: ${path}`,
        (e: Error) => `no screenshot: ${e.message}`,
      );
      if (error instanceof Error) {
        const said = error.message;
        error.message = `${said}\n(${saved})`;
        // The reporter prints the stack, which holds the message as it was at the throw.
        error.stack = error.stack?.replace(said, error.message);
      }
      throw error;
    }
  }

  /**
   * Scrolled to the end, a toast leaves every piece of the page's content visible: the longest a
   * toast shows (its box scrolls beyond 5 lines) is put in, the page scrolled down, and the
   * bottom of main's content compared with the toast's top.
   */
  async function assertToastCoversNothing(what: string): Promise<void> {
    // A string: it runs in the page, whose DOM types this file does not load.
    const overlap = (await page.evaluate(`(() => {
      const toast = document.getElementById('toast');
      const before = [...toast.childNodes];
      toast.textContent = 'A long message that wraps over several lines of the toast. '.repeat(8);
      scrollTo(0, document.documentElement.scrollHeight);
      const top = toast.getBoundingClientRect().top;
      const last = [...document.getElementById('main').querySelectorAll('*')].reduce(
        (bottom, el) => Math.max(bottom, el.getBoundingClientRect().bottom),
        0,
      );
      toast.replaceChildren(...before);
      return last - top;
    })()`)) as number;
    assert.ok(overlap <= 0, `${what}: the toast covers the last ${overlap.toFixed(0)} px of content`);
  }

  async function signUp(email: string, name: string, password: string) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Store', level: 1 }).waitFor();
  }

  async function logIn(email: string, password: string) {
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Store', level: 1 }).waitFor();
  }

  it('saves a screenshot when a step fails', async () => {
    const path = join(shots, 'failed-self-check.png');
    await rm(path, { force: true });
    await page.goto(stack.url);
    await assert.rejects(
      shotOnFailure('self-check', async () => assert.fail('a failing step')),
      (error: Error) => error.message.includes(`screenshot: ${path}`),
    );
    await access(path);
    await rm(path);
  });

  it('signs up, orders, watches it live, scrubs the timeline, ships as admin and redrives a dead letter', () =>
    shotOnFailure('store-timeline-operations', async () => {
      consoleErrors.length = 0;
      await page.goto(stack.url);
      await page.getByRole('heading', { name: 'Welcome to Conveyor' }).waitFor();
      // Signed out is a normal state, not an error: no 401 (or any other error) in the console.
      await page.locator('#session', { hasText: 'Not signed in' }).waitFor();
      assert.deepEqual(consoleErrors, [], 'errors in the console of a signed-out page');
      await capture('sign-in');

      // Storefront: sign up, place an order, see the confirmation arrive live.
      const email = `shopper-${crypto.randomUUID().slice(0, 8)}@conveyor.test`;
      await signUp(email, 'Shopper', 'correct horse battery');
      // Short visible labels ("Quantity"); the accessible name still says which product.
      const quantity = page.locator('input[type=number]').first();
      const label = page.locator('.product label').first();
      assert.equal(await label.locator('.visible-label').textContent(), 'Quantity');
      const hidden = await label.locator('.visually-hidden').boundingBox();
      assert.ok(hidden && hidden.width <= 1, 'the product name in the label is for screen readers only');
      const product = ((await page.locator('.product strong').first().textContent()) ?? '').trim();
      assert.equal(await page.getByLabel(`Quantity of ${product}`, { exact: true }).count(), 1);
      await quantity.fill('2');
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.locator('#order-status [data-status="placed"]').waitFor();
      // Money and the date in the browser's locale (de-DE): "25,00 €", "06.12.2026, 19:44".
      const status = (await page.locator('#order-status').textContent()) ?? '';
      assert.match(status, /\d+,\d\d\s€ · placed \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}/, status);
      await assertToastCoversNothing('store');
      await page.locator('#inbox li', { hasText: /confirmed/ }).waitFor();
      await capture('store');

      // Pay: the status changes live, through the SSE stream.
      await page.getByRole('button', { name: 'Pay' }).click();
      await page.locator('#order-status [data-status="paid"]').waitFor();
      const href = await page.getByRole('link', { name: 'Open timeline' }).getAttribute('href');
      const orderId = href?.split('/').pop() ?? '';
      assert.match(orderId, /^[0-9a-f-]{36}$/);

      // Timeline: every event, and the slider moved with the keyboard shows each version's state.
      await page.getByRole('link', { name: 'Open timeline' }).click();
      await page.locator('#events li').nth(1).waitFor();
      assert.equal(await page.locator('#events li').count(), 2);
      // Each event a sentence (who, what, amount) with its time; the raw event behind a toggle.
      const placed = page.locator('#events li[data-type="OrderPlaced"]');
      assert.match(
        (await placed.locator('.sentence').textContent()) ?? '',
        /^v1 You placed the order: 2 × \S+, \d+,\d\d\s€\. Payment is due by \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}\.$/,
      );
      assert.match(
        (await page.locator('#events li[data-type="OrderPaid"] .sentence').textContent()) ?? '',
        /^v2 You paid \d+,\d\d\s€\.$/,
      );
      assert.match((await placed.locator('time').textContent()) ?? '', /^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$/);
      const raw = placed.locator('pre');
      assert.equal(await raw.isVisible(), false, 'the raw event waits behind its toggle');
      await placed.getByText('Raw event').click();
      await raw.waitFor();
      assert.match((await raw.textContent()) ?? '', new RegExp(`"orderId": "${orderId}"`));
      const slider = page.getByLabel('State at version');
      await slider.focus();
      await page.keyboard.press('Home');
      await page.locator('#state-status', { hasText: 'placed' }).waitFor();
      assert.equal(await page.locator('#version-output').textContent(), 'version 1');
      await page.keyboard.press('End');
      await page.locator('#state-status', { hasText: 'paid' }).waitFor();
      await capture('timeline');

      await page.getByRole('link', { name: 'Orders', exact: true }).click();
      await page.getByRole('link', { name: `Order ${orderId.slice(-8)}` }).waitFor();
      await capture('orders');

      // A second order left unpaid: its payment timeout is a timer the operations page shows.
      await page.getByRole('link', { name: 'Store' }).click();
      await page.locator('input[type=number]').first().fill('1');
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.locator('#order-status [data-status="placed"]').waitFor();
      const unpaid =
        ((await page.getByRole('link', { name: 'Open timeline' }).getAttribute('href')) ?? '')
          .split('/')
          .pop() ?? '';
      assert.notEqual(unpaid, orderId);

      // Admin: ship the order from its timeline.
      consoleErrors.length = 0;
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Welcome to Conveyor' }).waitFor();
      assert.deepEqual(consoleErrors, [], 'errors in the console after logging out');
      await logIn(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD);
      await page.goto(`${stack.url}/#/orders/${orderId}`);
      await page.getByRole('button', { name: 'Ship order' }).click();
      await page.locator('#live-status [data-status="shipped"]').waitFor();
      await page.locator('#events li').nth(2).waitFor();

      // Operations: a poison message becomes a dead letter; inspect and redrive it; rebuild projections.
      const poisonId = await publishPoison(stack.natsOptions());
      await page.getByRole('link', { name: 'Operations' }).click();
      await page.locator('#health li.ok').nth(2).waitFor();
      const row = page.locator('#dead-letters tr', { hasText: 'order.paid' });
      // The consumer dead-letters the poison message on its own time: refresh until the list shows it.
      await waitUntil(
        async () => {
          await page.getByRole('button', { name: 'Refresh dead letters' }).click();
          await page.locator('#dead-letters').waitFor();
          return (await row.count()) > 0;
        },
        { timeoutMs: 10_000, intervalMs: 250, message: 'the poison message listed as a dead letter' },
      );
      const deadLetterId = (await row.first().getAttribute('data-id')) ?? '';
      assert.ok(deadLetterId, 'the poison message was not listed as a dead letter');
      await row
        .first()
        .getByRole('button', { name: /Inspect/ })
        .click();
      await page.locator('#dead-letter-detail pre', { hasText: poisonId }).waitFor();
      await page.getByRole('button', { name: 'Rebuild projections' }).click();
      await page.locator('#rebuild-status', { hasText: 'Rebuild done.' }).waitFor();
      // Timers due soon: the unpaid order's payment timeout, in half an hour (in German here).
      const timer = page.locator(`#timers tr[data-key="order-payment:${unpaid}"]`);
      await timer.waitFor();
      assert.match((await timer.textContent()) ?? '', /in (29|30) Minuten.*Cancel if still unpaid/);
      await timer.getByRole('link', { name: `Order ${unpaid.slice(-8)}` }).waitFor();
      const progress = await page
        .locator('#rebuild-progress')
        .evaluate((p) => [(p as unknown as { value: number }).value, (p as unknown as { max: number }).max]);
      assert.equal(progress[0], progress[1]);
      // Two snapshots make the first rate: the chart then draws a line of at least two points.
      await page.locator('.chart polyline[points*=" "]').first().waitFor({ state: 'attached' });
      await capture('operations');
      await row
        .first()
        .getByRole('button', { name: /Redrive/ })
        .click();
      await page.locator('#toast', { hasText: `Redrove dead letter ${deadLetterId}` }).waitFor();
      await page.locator(`#dead-letters tr[data-id="${deadLetterId}"]`).waitFor({ state: 'detached' });
      assert.deepEqual(pageErrors, [], 'script errors or CSP violations in the console');
    }));

  it('shows blocked sequences with what is parked behind them; redrives one, discards another after confirming', () =>
    shotOnFailure('sequences', async () => {
      const blocked = await blockOrderSequences(stack, 2);
      const [first, second] = blocked.orderIds as [string, string];
      const [redrive, discard] = [blocked.heads.get(first) as string, blocked.heads.get(second) as string];
      await page.context().clearCookies();
      await page.goto(stack.url);
      await logIn(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Operations' }).click();
      const row = (id: string) =>
        page.locator(`#dead-letter-sequences tr[data-service="orders"][data-id="${id}"]`);
      for (const [id, orderId] of [
        [redrive, first],
        [discard, second],
      ] as const) {
        await row(id).waitFor();
        assert.equal(await row(id).locator('td.parked').textContent(), '1');
        assert.match(
          (await row(id).textContent()) ?? '',
          new RegExp(`orderId:${orderId}.*dead.*order\\.paid`),
        );
      }
      await capture('sequences');

      await blocked.lift();
      await page.getByRole('button', { name: `Redrive sequence orders ${redrive}` }).click();
      await page.locator('#sequence-result', { hasText: `Redrove orders ${redrive}: applied 2.` }).waitFor();
      await row(redrive).waitFor({ state: 'detached' });

      // Discard asks first, in the page: Cancel leaves the sequence as it was.
      const dialog = page.getByRole('dialog', { name: 'Discard this dead letter?' });
      const discardButton = page.getByRole('button', { name: `Discard dead letter orders ${discard}` });
      await discardButton.click();
      await dialog.getByText(`orderId:${second}`).waitFor();
      await capture('discard-dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await row(discard).count(), 1, 'cancelled: nothing was discarded');
      await discardButton.click();
      await dialog.getByRole('button', { name: 'Discard', exact: true }).click();
      await page
        .locator('#sequence-result', { hasText: `Discarded orders ${discard}: applied 1.` })
        .waitFor();
      await row(discard).waitFor({ state: 'detached' });
      assert.deepEqual(pageErrors, [], 'script errors or CSP violations in the console');
    }));

  it('pauses a consumer after asking why, resets it only when paused and confirmed, and resumes it', () =>
    shotOnFailure('consumers', async () => {
      await page.context().clearCookies();
      await page.goto(stack.url);
      await logIn(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Operations' }).click();
      const name = 'notifications/USERS/notifications';
      const row = page.locator(`#consumers tr[data-consumer="${name}"]`);
      await row.waitFor();
      assert.match((await row.textContent()) ?? '', /running/);
      const reset = page.getByRole('button', { name: `Reset ${name}` });
      assert.equal(await reset.isDisabled(), true, 'reset waits for a pause');

      await page.getByRole('button', { name: `Pause ${name}` }).click();
      const pauseDialog = page.getByRole('dialog', { name: 'Pause this consumer?' });
      await pauseDialog.getByLabel('Reason (optional)').fill('browser test');
      await capture('consumer-pause-dialog');
      await pauseDialog.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.locator('#consumer-result', { hasText: `Paused ${name}` }).waitFor();
      await row.getByText('paused', { exact: true }).waitFor();
      assert.match((await row.textContent()) ?? '', /browser test/);

      const resetDialog = page.getByRole('dialog', { name: 'Reset this consumer?' });
      await reset.click();
      await resetDialog.getByRole('button', { name: 'Cancel' }).click();
      await resetDialog.waitFor({ state: 'hidden' });
      assert.doesNotMatch((await row.textContent()) ?? '', /reset:/, 'cancelled: nothing was reset');
      await reset.click();
      await resetDialog.getByLabel('From stream sequence').fill('1');
      await capture('consumer-reset-dialog');
      await resetDialog.getByRole('button', { name: 'Reset', exact: true }).click();
      await page.locator('#consumer-result', { hasText: `Reset ${name} to sequence 1` }).waitFor();
      await row.getByText('reset: starts at sequence 1').waitFor();
      await capture('consumers');

      await page.getByRole('button', { name: `Resume ${name}` }).click();
      await page.locator('#consumer-result', { hasText: `Resumed ${name}` }).waitFor();
      await row.getByText('running', { exact: true }).waitFor();
      for (const [size, viewport] of Object.entries(sizes)) {
        await page.setViewportSize(viewport);
        await assertToastCoversNothing(`operations (${size})`);
      }
      await page.setViewportSize(sizes.desktop);
      assert.deepEqual(pageErrors, [], 'script errors or CSP violations in the console');
    }));
});

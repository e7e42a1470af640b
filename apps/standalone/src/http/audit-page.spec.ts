// The auditor page in a real headless browser (Debian's chromium driven by playwright-core),
// against the standalone app on a temporary data directory: sign in, pick an entity, read its
// timeline with the diff of each change, look at the project as of an earlier point, and see
// names that look like markup shown as text. CI installs chromium (tools/infra/install.sh); a
// machine without it reports the suite as skipped, with the reason.
import { collectPageErrors, describeWithChromium, launchChromium } from '@flagline/admin-web/testing';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, expectStatus, num, results, startTestApp, type TestApp } from '../testing/http-harness';

/** A name an attacker would like to see rendered as markup. */
const XSS_NAME = '<img src=x onerror="window.__pwned=1">';

/** The cells of each change row of a timeline entry. */
async function changeRows(page: Page, position: number): Promise<{ where?: string; field?: string; before?: string; after?: string }[]> {
  const rows = await page.locator(`ol.timeline > li[data-position="${position}"] tbody tr`).all();
  return Promise.all(
    rows.map(async (row) => {
      const [where, field, before, after] = await row.locator('td').allTextContents();
      return { where, field, before, after };
    }),
  );
}

/** The checkout_button timeline: created, toggled on in Production, its value changed from blue to green, two overrides, reordered. */
async function expectFeatureTimeline(
  page: Page,
  positions: { created: number; toggled: number; valueChanged: number; reordered: number },
): Promise<void> {
  await page.getByText('6 events shown, the whole history.').waitFor();
  await expect(page.locator('ol.timeline > li').count()).resolves.toBe(6);
  const entry = (position: number) => page.locator(`ol.timeline > li[data-position="${position}"]`);
  await expect(entry(positions.created).getByRole('heading', { level: 3 }).textContent()).resolves.toBe('FeatureCreated');
  await expect(entry(positions.toggled).locator('.meta').textContent()).resolves.toContain('admin@flagline.local');
  const toggle = await changeRows(page, positions.toggled);
  expect(toggle).toEqual([expect.objectContaining({ field: 'enabled', before: 'false', after: 'true' })]);
  expect(toggle[0]?.where).toContain('Production');
  expect(toggle[0]?.where).toContain('checkout_button');
  await expect(changeRows(page, positions.valueChanged)).resolves.toEqual([expect.objectContaining({ field: 'value', before: 'blue', after: 'green' })]);
  expect(await entry(positions.valueChanged).locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
  const reorder = await changeRows(page, positions.reordered);
  expect(reorder).toEqual([
    expect.objectContaining({ before: JSON.stringify(['power users', 'beta testers']), after: JSON.stringify(['beta testers', 'power users']) }),
  ]);
  expect(reorder[0]?.where).toContain('Production');
}

jest.setTimeout(60_000);

describeWithChromium('auditor page (headless chromium)', () => {
  let test: TestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  const ids = { organisation: 0, project: 0, environment: 0, feature: 0, xssFeature: 0, busy: 0, retired: 0 };
  /** Log positions of the feature's creation, its toggle, its value change and the reordering of its segment overrides. */
  const positions = { created: 0, toggled: 0, valueChanged: 0, reordered: 0 };

  beforeAll(async () => {
    test = await startTestApp();
    const { admin } = test;
    ids.organisation = num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name: 'Acme' }), 201), 'id');
    ids.project = num(expectStatus(await admin.post(`${ADMIN}/projects`, { organisation: ids.organisation, name: 'Storefront' }), 201), 'id');
    ids.environment = num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/environments`, { name: 'Production' }), 201), 'id');
    // A feature that existed for a while: deleted once everything else is in place.
    ids.retired = num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/features`, { name: 'retired', initialValue: 'old' }), 201), 'id');
    ids.feature = num(
      expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/features`, { name: 'checkout_button', defaultEnabled: false, initialValue: 'blue' }), 201),
      'id',
    );
    ids.xssFeature = num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/features`, { name: XSS_NAME, initialValue: XSS_NAME }), 201), 'id');
    const state = `${ADMIN}/environments/${ids.environment}/feature-states/${ids.feature}`;
    expectStatus(await admin.patch(state, { enabled: true }), 200);
    expectStatus(await admin.patch(state, { value: 'green' }), 200);
    // Two segment overrides of the feature in Production, then their order reversed.
    const segment = async (name: string) =>
      num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/segments`, { name, rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: name }] }] }), 201), 'id');
    const power = await segment('power users');
    const beta = await segment('beta testers');
    for (const id of [power, beta]) expectStatus(await admin.post(`${ADMIN}/environments/${ids.environment}/segment-overrides`, { feature: ids.feature, segment: id, enabled: true, value: 'gold' }), 201);
    expectStatus(await admin.put(`${ADMIN}/environments/${ids.environment}/features/${ids.feature}/segment-override-order`, { segmentIds: [beta, power] }), 200);
    // A feature with more history than one page of the timeline (its creation, then 24 values).
    ids.busy = num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/features`, { name: 'busy', initialValue: 'v0' }), 201), 'id');
    for (let change = 1; change <= 24; change++) expectStatus(await admin.patch(`${ADMIN}/environments/${ids.environment}/feature-states/${ids.busy}`, { value: `v${change}` }), 200);
    // A tag, renamed.
    const tag = num(expectStatus(await admin.post(`${ADMIN}/projects/${ids.project}/tags`, { label: 'release' }), 201), 'id');
    expectStatus(await admin.patch(`${ADMIN}/projects/${ids.project}/tags/${tag}`, { label: 'release-2' }), 200);
    // An identity whose traits change: one trait changed, one removed.
    const identities = `${ADMIN}/environments/${ids.environment}/identities`;
    expectStatus(await admin.post(identities, { identifier: 'ada', traits: { plan: 'free', beta: true } }), 201);
    expectStatus(await admin.patch(`${identities}/ada/traits`, { traits: { plan: 'pro', beta: null } }), 200);
    const history = results(expectStatus(await admin.get(`${ADMIN}/projects/${ids.project}/features/${ids.feature}/history`), 200));
    expect(history.map((entry) => entry['type'])).toEqual([
      'FeatureCreated',
      'FeatureStateChanged',
      'FeatureStateChanged',
      'SegmentOverrideCreated',
      'SegmentOverrideCreated',
      'SegmentOverridesReordered',
    ]);
    expect((await admin.delete(`${ADMIN}/projects/${ids.project}/features/${ids.retired}`)).status).toBe(204);
    const at = (index: number) => num(history[index], 'position');
    Object.assign(positions, { created: at(0), toggled: at(1), valueChanged: at(2), reordered: at(5) });

    browser = await launchChromium();
    page = await browser.newPage();
    pageErrors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await test?.dispose();
  });

  const signIn = async (key: string): Promise<void> => {
    await page.getByLabel('Admin API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('serves the page with a strict Content-Security-Policy, and refuses a wrong key without keeping it', async () => {
    const response = await page.goto(`${test.app.url}/audit/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();

    await signIn('not-a-key-of-this-instance');
    await page.getByRole('alert').filter({ hasText: 'The key was refused' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await expect(page.getByRole('heading', { name: 'Organisations', level: 1 }).count()).resolves.toBe(0);
  });

  it('signs in with the admin key, kept in the tab and never in the URL, and walks to a feature', async () => {
    await signIn(test.adminKey);
    await page.getByRole('heading', { name: 'Organisations', level: 1 }).waitFor();
    expect(page.url()).not.toContain(test.adminKey);
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([test.adminKey]);

    await page.getByRole('link', { name: 'Acme' }).click();
    await page.getByRole('link', { name: 'Storefront' }).click();
    await page.getByRole('heading', { name: 'Storefront', level: 1 }).waitFor();
    await expect(page.getByRole('link', { name: 'retired' }).count()).resolves.toBe(0);
    // Keyboard: the feature link is reached and followed without a mouse.
    await page.getByRole('link', { name: 'checkout_button' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Feature: checkout_button', level: 1 }).waitFor();
    expect(page.url()).toContain(`#/o/${ids.organisation}/p/${ids.project}/feature/${ids.feature}`);
  });

  it("shows the feature's timeline with who, when and the before and after of a toggle and a value change", async () => {
    await expectFeatureTimeline(page, positions);
    const diff = await test.admin.get(`${ADMIN}/projects/${ids.project}/diff?from=${positions.toggled - 1}&to=${positions.toggled}`);
    if (diff.status === 200) await expect(page.locator('caption').nth(1).textContent()).resolves.toContain("from the server's diff");
    else console.warn(`auditor page: the server has no diff yet (HTTP ${diff.status}); the timeline's before and after came from the events`);
  });

  it('shows the project as of the point just before the toggle, or says clearly that the server cannot', async () => {
    const probe = await test.admin.get(`${ADMIN}/projects/${ids.project}/features?asOf=${positions.toggled - 1}`);
    const timeTravel = probe.status === 200 && probe.headers.get('x-flagline-position') !== null;
    if (!timeTravel) console.warn(`auditor page: the server answers no asOf reads yet (HTTP ${probe.status}); checking that the page says so instead`);

    await page
      .locator(`ol.timeline > li[data-position="${positions.toggled}"]`)
      .getByRole('link', { name: /just before this change/ })
      .click();
    await page.getByRole('heading', { name: 'Storefront as of a point in time', level: 1 }).waitFor();
    await expect(page.getByLabel('Point in time').inputValue()).resolves.toBe(String(positions.toggled - 1));
    if (!timeTravel) {
      await page.locator('.notice').filter({ hasText: 'cannot be shown as of' }).or(page.locator('.notice').filter({ hasText: 'does not answer reads as of' })).waitFor();
      await expect(page.locator('table').count()).resolves.toBe(0);
      return;
    }
    const states = page.getByRole('table', { name: 'Feature states in Production' });
    await states.waitFor();
    const row = states.getByRole('row').filter({ has: page.getByRole('cell', { name: 'checkout_button', exact: true }) });
    await expect(row.locator('td').allTextContents()).resolves.toEqual(['checkout_button', 'false', 'blue', '[]']);

    // The same view at the value change's position, picked with the form, shows the later state.
    await page.getByLabel('Point in time').fill(String(positions.valueChanged));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('#as-of-position').filter({ hasText: String(positions.valueChanged) }).waitFor();
    await expect(row.locator('td').allTextContents()).resolves.toEqual(['checkout_button', 'true', 'green', '[]']);
    await expect(page.getByText('No segment overrides then.').count()).resolves.toBe(1);

    // The override order before and after it was reversed.
    const overrideOrder = async (position: number): Promise<string[][]> => {
      await page.getByLabel('Point in time').fill(String(position));
      await page.getByRole('button', { name: 'Show' }).click();
      await page.locator('#as-of-position').filter({ hasText: new RegExp(`^${position}$`) }).waitFor();
      const rows = await page.getByRole('table', { name: /^Segment overrides in Production/ }).locator('tbody tr').all();
      return Promise.all(rows.map(async (tableRow) => (await tableRow.locator('td').allTextContents()).slice(0, 3)));
    };
    await expect(overrideOrder(positions.reordered - 1)).resolves.toEqual([
      ['checkout_button', '0', 'power users'],
      ['checkout_button', '1', 'beta testers'],
    ]);
    await expect(overrideOrder(positions.reordered)).resolves.toEqual([
      ['checkout_button', '0', 'beta testers'],
      ['checkout_button', '1', 'power users'],
    ]);

    // A point the server refuses is a message naming what it refused, with nothing of the project shown.
    await page.getByLabel('Point in time').fill('not-a-time');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('status').filter({ hasText: 'cannot be shown as of "not-a-time": HTTP 400' }).waitFor();
    await expect(page.locator('table').count()).resolves.toBe(0);

    // A local date and time picked fills the field with its ISO time; one before the log began is refused, and the page says so.
    await page.getByLabel('Or pick a date and time').fill('2001-02-03T04:05:06');
    await expect(page.getByLabel('Point in time').inputValue()).resolves.toBe(await page.evaluate("new Date('2001-02-03T04:05:06').toISOString()"));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('status').filter({ hasText: /cannot be shown as of "2001-02-03T\d\d:05:06\.000Z": HTTP 400/ }).waitFor();
    await expect(page.locator('table').count()).resolves.toBe(0);

    // A feature deleted since is in the older state, and its name leads to its history.
    await page.getByLabel('Point in time').fill(String(positions.toggled));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('table', { name: 'Features' }).getByRole('link', { name: 'retired', exact: true }).click();
    await page.getByRole('heading', { name: 'Feature: retired (deleted)', level: 1 }).waitFor();
    await page.getByText('2 events shown, the whole history.').waitFor();
    await expect(page.locator('ol.timeline h3').allTextContents()).resolves.toEqual(['FeatureCreated', 'FeatureDeleted']);
  });

  it("pages a long timeline by keyboard, keeping each change's before across pages", async () => {
    await page.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}/feature/${ids.busy}`);
    await page.getByRole('heading', { name: 'Feature: busy', level: 1 }).waitFor();
    await page.getByText('20 events shown.').waitFor();
    await page.getByRole('button', { name: 'Load more events' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('25 events shown, the whole history.').waitFor();
    await expect(page.getByRole('button', { name: 'Load more events' }).count()).resolves.toBe(0);
    const first = page.locator('ol.timeline > li').nth(20);
    await expect(page.evaluate('document.activeElement.closest("li") === document.querySelectorAll("ol.timeline > li")[20]')).resolves.toBe(true);
    await expect(changeRows(page, Number(await first.getAttribute('data-position')))).resolves.toEqual([expect.objectContaining({ field: 'value', before: 'v19', after: 'v20' })]);
  });

  it.each([
    ['Segment', 'power users', ['SegmentCreated', 'SegmentOverrideCreated', 'SegmentOverridesReordered']],
    ['Tag', 'release-2', ['TagCreated', 'TagChanged']],
  ])('shows the timeline of a %s picked from the project', async (label, name, types) => {
    await page.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}`);
    await page.getByRole('region', { name: `${label}s` }).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { name: `${label}: ${name}`, level: 1 }).waitFor();
    await page.getByText(/events? shown, the whole history\./).waitFor();
    await expect(page.locator('ol.timeline h3').allTextContents()).resolves.toEqual(types);
  });

  it('shows the timeline of an environment: the states of every feature in it', async () => {
    await page.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}`);
    await page.getByRole('region', { name: 'Environments' }).getByRole('link', { name: 'Production', exact: true }).click();
    await page.getByRole('heading', { name: 'Environment: Production', level: 1 }).waitFor();
    await page.getByText(/events shown/).waitFor();
    await expect(page.locator('ol.timeline h3').first().textContent()).resolves.toBe('EnvironmentCreated');
    const toggle = await changeRows(page, positions.toggled);
    expect(toggle).toEqual([expect.objectContaining({ field: 'enabled', before: 'false', after: 'true' })]);
  });

  it("shows an identity's timeline, picked from its environment, with each trait's before and after", async () => {
    await page.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}`);
    await page.getByRole('link', { name: 'ada', exact: true }).click();
    await page.getByRole('heading', { name: 'Identity: ada', level: 1 }).waitFor();
    await page.getByText('2 events shown, the whole history.').waitFor();
    const position = async (index: number) => Number(await page.locator('ol.timeline > li').nth(index).getAttribute('data-position'));
    const [created, changed] = [await position(0), await position(1)];
    const fields = async (at: number) => (await changeRows(page, at)).map(({ field, before, after }) => ({ field, before, after }));
    await expect(fields(created)).resolves.toEqual([
      { field: 'trait plan', before: '—', after: 'free' },
      { field: 'trait beta', before: '—', after: 'true' },
    ]);
    await expect(fields(changed)).resolves.toEqual([
      { field: 'trait plan', before: 'free', after: 'pro' },
      { field: 'trait beta', before: 'true', after: 'null' },
    ]);
  });

  it('shows a name that looks like markup as text, everywhere, and runs none of it', async () => {
    await page.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}`);
    const link = page.getByRole('link', { name: XSS_NAME, exact: true });
    await link.waitFor();
    await link.click();
    await page.getByRole('heading', { name: `Feature: ${XSS_NAME}`, level: 1 }).waitFor();
    await page.locator('ol.timeline > li').first().waitFor();
    await expect(page.locator('main').textContent()).resolves.toContain(XSS_NAME);
    await expect(page.locator('img').count()).resolves.toBe(0);
    await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
    await expect(page.title()).resolves.toBe(`Feature: ${XSS_NAME} · Flagline audit`);
  });

  it('reported no script error or Content-Security-Policy violation', () => {
    expect(pageErrors).toEqual([]);
  });

  it('degrades clearly on a server without diff or time travel: before and after from the events, no past state shown as today', async () => {
    const context = await browser.newContext();
    const degraded = await context.newPage();
    try {
      // A server without the diff route, and one that ignores asOf (answers today's state with no position).
      await degraded.route('**/admin/v1/projects/*/diff?**', (route) =>
        route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: 'Cannot GET diff' }) }),
      );
      await degraded.route(/asOf=/, async (route) => {
        const response = await route.fetch({ url: route.request().url().replace(/([?&])asOf=[^&]*&?/, '$1') });
        const headers = { ...response.headers() };
        delete headers['x-flagline-position'];
        await route.fulfill({ response, headers });
      });
      await degraded.goto(`${test.app.url}/audit/#/o/${ids.organisation}/p/${ids.project}/feature/${ids.feature}`);
      await degraded.getByLabel('Admin API key').fill(test.adminKey);
      await degraded.getByRole('button', { name: 'Sign in' }).click();
      await degraded.getByRole('heading', { name: 'Feature: checkout_button', level: 1 }).waitFor();
      await degraded.getByRole('status').filter({ hasText: "The server's diff is not available (HTTP 404" }).waitFor();
      await expectFeatureTimeline(degraded, positions);
      await expect(degraded.locator('caption').first().textContent()).resolves.toContain('from the event data');

      await degraded.locator(`ol.timeline > li[data-position="${positions.toggled}"]`).getByRole('link', { name: /just before this change/ }).click();
      await degraded.getByRole('status').filter({ hasText: 'does not answer reads as of a point in time' }).waitFor();
      await expect(degraded.locator('table').count()).resolves.toBe(0);
    } finally {
      await context.close();
    }
  });

  it('keeps the data behind the key: the page is public, the admin API is not', async () => {
    const anonymous = test.client(null);
    expect((await anonymous.get('/audit/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await anonymous.get(`${ADMIN}/projects/${ids.project}/features/${ids.feature}/history`)).status).toBe(401);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});

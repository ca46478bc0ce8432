import { type APIRequestContext, type APIResponse, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import {
  basic,
  bearer,
  createKey,
  expectSameDayRoughly,
  expectSignedOutOnLogin,
  isoDay,
  LEVELS,
  mainNav,
  parseLongDate,
  partsOf,
  signUp,
  signUpAndOpenKeys,
  uniqueUser,
  utcDayIn,
  waitForHydration,
  type TestUser,
} from './helpers';

async function whoami(request: APIRequestContext, headers: Record<string, string>): Promise<APIResponse> {
  return request.get('/api/v1/whoami', { headers });
}

async function expectRevoked(response: APIResponse, how: string): Promise<void> {
  expect(response.status(), `${how}: status`).toBe(401);
  expect(response.headers()['content-type'], `${how}: content type`).toMatch(/^application\/problem\+json/);
  expect(response.headers()['www-authenticate'], `${how}: WWW-Authenticate`).toBeTruthy();
  const body = await response.json();
  expect(body.code, `${how}: code`).toBe('key_revoked');
  expect(body.status, `${how}: status in body`).toBe(401);
}

test.describe('API keys', () => {
  test('create a key, use it with Bearer and Basic, revoke it', async ({ page, request, baseURL }) => {
    const user = uniqueUser('keys');
    await signUp(page, user);
    await waitForHydration(page);
    await mainNav(page).getByRole('link', { name: 'API keys' }).click();
    await expect(page).toHaveURL(/\/account\/keys$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');
    await waitForHydration(page);

    const empty = page.getByTestId('keys-empty');
    await expect(empty).toContainText('No API keys yet.');
    await expect(empty.getByRole('link')).toHaveAttribute('href', '/docs');
    await expect(page.getByTestId('keys-table')).toHaveCount(0);

    // With no keys, the form is already open.
    const details = page.locator('details.new-key');
    await expect(details).toHaveAttribute('open', '');
    const form = page.getByTestId('new-key-form');
    await expect(form.getByLabel('Access level')).toHaveValue('1');
    await expect(form.getByLabel('90 days', { exact: true })).toBeChecked();
    await form.getByLabel('30 days', { exact: true }).check();
    const hint = (await page.getByTestId('expiry-result').innerText()).trim();
    expect(hint).toMatch(/^Expires on .+\.$/);
    expectSameDayRoughly(parseLongDate(hint.slice('Expires on '.length, -1)), utcDayIn(30), 'expiry hint');

    const token = await createKey(page, 'e2e script', '30 days');
    expect(token).toHaveLength(55);
    const { id } = partsOf(token);
    const panel = page.getByTestId('new-token-panel');
    await expect(panel).toContainText('Copy this token now. It will not be shown again.');
    const origin = new URL(page.url()).origin;
    expect(origin).toBe(new URL(baseURL!).origin);
    await expect(panel.getByTestId('new-token-curl')).toHaveText(
      `curl -H "Authorization: Bearer ${token}" ${origin}/api/v1/whoami`,
    );

    // The token works from outside the browser (this request context has no session cookie).
    for (const [how, headers] of [['Bearer', bearer(token)], ['Basic', basic(token)]] as const) {
      const response = await whoami(request, headers);
      expect(response.status(), `${how}: status`).toBe(200);
      const body = await response.json();
      expect(body, how).toMatchObject({
        username: user.username,
        role: 'user',
        level: 1,
        auth: 'key',
        key: { id, name: 'e2e script', level: 1 },
      });
      expectSameDayRoughly(new Date(body.key.expires_at), new Date(Date.now() + 30 * 86_400_000), `${how}: expires_at`);
    }

    // The list has the key.
    const row = page.locator(`[data-testid="keys-table"] tr[data-key-id="${id}"]`);
    await expect(row).toHaveCount(1);
    const cells = row.locator('td');
    await expect(row.getByTestId('key-name')).toHaveText('e2e script');
    const created = (await row.getByTestId('key-created').innerText()).trim();
    expectSameDayRoughly(parseLongDate(created.replace(/^created /, '')), utcDayIn(0), 'created');
    await expect(cells.nth(1)).toHaveText(/^1\s+Read own measurement sets and patterns$/);
    const expiresCell = (await cells.nth(2).innerText()).trim();
    expect(expiresCell, 'no "expired"/"expires in" badge 30 days out').not.toMatch(/expire/);
    expectSameDayRoughly(parseLongDate(expiresCell), utcDayIn(30), 'expires');
    await expect(cells.nth(3)).toHaveText(/^(never|\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC)$/);
    await expect(row.getByTestId('calls-today')).toHaveText(/^\d+$/);
    await expect(row.getByTestId('key-limits')).toHaveText('60 / min · 10,000 / day');
    await expect(cells.nth(7).locator('code')).toHaveText(`tpl_${id}`);

    // The token is shown once: a fresh load no longer has it, and the list now counts both calls.
    await page.reload();
    await waitForHydration(page);
    await expect(row).toHaveCount(1);
    await expect(page.getByTestId('new-token-panel')).toHaveCount(0);
    expect(await page.content()).not.toContain(token.slice(17));
    await expect(cells.nth(3)).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/);
    await expect(row.getByTestId('calls-today')).toHaveText('2');
    await expect(row.getByTestId('calls-30d')).toHaveText('2');
    await expect(row.getByTestId('refused-today')).toHaveCount(0);
    await expect(page.locator('details.new-key')).not.toHaveAttribute('open', /.*/);

    // From here on the page must not reload or navigate.
    await page.evaluate(() => ((window as unknown as { e2eMarker: string }).e2eMarker = 'still here'));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    // Cancel leaves the key alone.
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('alertdialog');
    await expect(dialog).toHaveAccessibleName('Revoke “e2e script”?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(row).toHaveCount(1);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect(dialog).toHaveAccessibleName('Revoke “e2e script”?');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await expect(row).toHaveCount(0);
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId('keys-empty')).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe('still here');
    expect(navigations, 'no navigation while revoking').toBe(0);
    await expect(page).toHaveURL(/\/account\/keys$/);

    await expectRevoked(await whoami(request, bearer(token)), 'Bearer after revoke');
    await expectRevoked(await whoami(request, basic(token)), 'Basic after revoke');
  });

  test.describe('with clipboard access', () => {
    test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

    test('the Copy button puts the token on the clipboard', async ({ page }) => {
      await signUpAndOpenKeys(page, 'copy');
      const token = await createKey(page, 'clipboard test', '7 days');
      const panel = page.getByTestId('new-token-panel');
      await expect(panel).not.toContainText('Copied to the clipboard.');
      await panel.getByRole('button', { name: 'Copy', exact: true }).click();
      await expect(panel).toContainText('Copied to the clipboard.');
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    });
  });

  test('form errors appear next to their field; levels and expiry choices', async ({ page }) => {
    await signUpAndOpenKeys(page, 'keyform');
    const form = page.getByTestId('new-key-form');
    const nameError = page.locator('#key-name-error');
    const levelError = page.locator('#key-level-error');
    const expiryError = page.locator('#key-expiry-error');
    await expect(nameError).toHaveText('');

    // An empty name is refused, next to the Name field, and no key is made.
    await form.getByRole('button', { name: 'Create key' }).click();
    await expect(nameError).toHaveText('Give the key a name, e.g. the script that will use it.');
    await expect(levelError).toHaveText('');
    await expect(expiryError).toHaveText('');
    await expect(page.getByTestId('new-token-panel')).toHaveCount(0);
    await expect(page.getByTestId('keys-empty')).toBeVisible();
    await expect(page).toHaveURL(/\/account\/keys$/);

    // A normal user may grant levels 0–4; 1 is the default.
    const level = form.getByLabel('Access level');
    await expect(level.locator('option')).toHaveText(LEVELS);
    expect(await level.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)))
      .toEqual(['0', '1', '2', '3', '4']);
    await expect(level).toHaveValue('1');

    // Expiry: presets 7/30/90/365 days, 90 by default; the date input only for "Custom date".
    const radios = form.locator('input[type="radio"][name="expires_in_days"]');
    expect(await radios.evaluateAll((rs) => rs.map((r) => (r as HTMLInputElement).value)))
      .toEqual(['7', '30', '90', '365', 'custom']);
    await expect(form.getByLabel('90 days', { exact: true })).toBeChecked();
    const date = form.getByLabel('Custom expiry date');
    const hint = page.getByTestId('expiry-result');
    await expect(date).toBeDisabled();
    expectSameDayRoughly(parseLongDate((await hint.innerText()).trim().replace(/^Expires on (.*)\.$/, '$1')), utcDayIn(90), 'hint');

    await form.getByLabel('Custom date', { exact: true }).check();
    await expect(date).toBeEnabled();
    await expect(hint).toHaveText('Pick a date.');

    const day = isoDay(utcDayIn(60));
    await date.fill(day);
    await expect(hint).toHaveText(`Expires at the end of ${day} (UTC).`);
    const later = isoDay(utcDayIn(61));
    await date.fill(later);
    await expect(hint).toHaveText(`Expires at the end of ${later} (UTC).`);

    // Back to a preset: the date input is disabled again and the hint follows.
    await form.getByLabel('7 days', { exact: true }).check();
    await expect(date).toBeDisabled();
    await expect(hint).toHaveText(/^Expires on .+\.$/);
    await form.getByLabel('Custom date', { exact: true }).check();
    await expect(date).toBeEnabled();
    await expect(hint).toHaveText(`Expires at the end of ${later} (UTC).`);

    // The custom date (and level) are the ones the key gets.
    await form.getByLabel('Name').fill('custom expiry');
    await form.getByLabel('Access level').selectOption('0');
    await form.getByRole('button', { name: 'Create key' }).click();
    const panel = page.getByTestId('new-token-panel');
    await expect(panel.getByRole('heading')).toHaveText('Your new key “custom expiry”');
    const id = partsOf((await panel.getByTestId('new-token').innerText()).trim()).id;
    const row = page.locator(`tr[data-key-id="${id}"]`);
    await expect(row.locator('td').nth(1)).toHaveText(/^0\s+Authenticate only \(whoami\)$/);
    expect(isoDay(parseLongDate(await row.locator('td').nth(2).innerText()))).toBe(later);
    await expect(expiryError).toHaveText('');
  });

  test('a custom date past the instance maximum is refused next to the expiry choices', async ({ page }) => {
    await signUpAndOpenKeys(page, 'keylong');
    const form = page.getByTestId('new-key-form');
    await form.getByLabel('Name').fill('too long');
    await form.getByLabel('Custom date', { exact: true }).check();
    await form.getByLabel('Custom expiry date').fill(isoDay(utcDayIn(400)));
    await form.getByRole('button', { name: 'Create key' }).click();
    await expect(page.locator('#key-expiry-error')).toHaveText(/^Keys on this instance live at most 365 days/);
    await expect(page.locator('#key-name-error')).toHaveText('');
    await expect(page.getByTestId('new-token-panel')).toHaveCount(0);
    await expect(page.getByTestId('keys-empty')).toBeVisible();
  });

  // Regressions: bugs found while writing this suite, fixed since.
  test.describe('regressions', () => {
    test('a refused submission keeps the chosen custom expiry date usable', async ({ page }) => {
      await signUpAndOpenKeys(page, 'keybug');
      const form = page.getByTestId('new-key-form');
      const date = form.getByLabel('Custom expiry date');
      const hint = page.getByTestId('expiry-result');
      const day = isoDay(utcDayIn(60));
      await form.getByLabel('Custom date', { exact: true }).check();
      await date.fill(day);
      await expect(hint).toHaveText(`Expires at the end of ${day} (UTC).`);

      // Forget the name: refused, as it should be.
      await form.getByRole('button', { name: 'Create key' }).click();
      await expect(page.locator('#key-name-error')).toHaveText('Give the key a name, e.g. the script that will use it.');
      await expect(form.getByLabel('Custom date', { exact: true })).toBeChecked();
      await expect(date).toHaveValue(day);
      // The bug: the date input ended up disabled and the hint read "Expires on <90 days out>.".
      await expect(hint, 'hint still follows the custom date').toHaveText(`Expires at the end of ${day} (UTC).`, { timeout: 3_000 });
      await expect(date, 'date input still enabled').toBeEnabled({ timeout: 3_000 });

      // Fixing the name must now create the key with that date.
      await form.getByLabel('Name').fill('after a refusal');
      await form.getByRole('button', { name: 'Create key' }).click();
      await expect(page.getByTestId('new-token-panel')).toBeVisible({ timeout: 3_000 });
    });

    test('the custom date input\'s max is a valid date (YYYY-MM-DD)', async ({ page }) => {
      await signUpAndOpenKeys(page, 'keymax');
      const date = page.getByTestId('new-key-form').getByLabel('Custom expiry date');
      await expect(date).toHaveAttribute('max', /^\d{4}-\d{2}-\d{2}$/, { timeout: 3_000 });
      const max = new Date(`${await date.getAttribute('max')}T00:00:00Z`);
      expectSameDayRoughly(max, utcDayIn(365), 'max');
    });
  });

  test('/docs shows the API with Swagger UI, from /api/openapi.json', async ({ page, request, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const offsite: string[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) offsite.push(req.url());
    });

    const response = await page.goto('/docs');
    expect(response?.ok()).toBeTruthy();
    await expect(page.locator('.swagger-ui .info .title')).toContainText('Tapeline API');
    const ops = page.locator('.opblock-summary-path');
    await expect(ops.filter({ hasText: /^\/api\/v1\/whoami$/ })).toHaveCount(1);
    await expect(ops.filter({ hasText: /^\/api\/v1\/apikeys$/ })).toHaveCount(2);
    await expect(page.getByRole('button', { name: 'Authorize' })).toBeVisible();
    expect(offsite, 'Swagger UI is vendored: no request leaves the server').toEqual([]);

    const doc = await request.get('/api/openapi.json');
    expect(doc.status()).toBe(200);
    expect(doc.headers()['content-type']).toMatch(/^application\/json/);
    const json = await doc.json();
    expect(json.openapi).toMatch(/^3\.1/);
    expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(['/api/v1/whoami', '/api/v1/apikeys']));
  });

  test('Swagger UI\'s "Authorize" takes a Tapeline token and "Try it out" calls the API with it', async ({ page, baseURL }) => {
    // Swagger UI renders the whole document in the page: on two busy cores that alone can
    // take most of the default 30 s.
    test.setTimeout(60_000);
    const user = await signUpAndOpenKeys(page, 'swagger');
    const origin = new URL(baseURL!).origin;
    const created = await page.request.post('/api/v1/apikeys', {
      headers: { Origin: origin },
      data: { name: 'swagger', level: 0 },
    });
    expect(created.status()).toBe(201);
    const { token } = await created.json();
    // Signed out: from here on only the token can authenticate.
    await page.context().clearCookies();

    await page.goto('/docs');
    await page.getByRole('button', { name: 'Authorize' }).click();
    const bearer = page.locator('.dialog-ux form').filter({ hasText: '(http, Bearer)' });
    await bearer.getByRole('textbox', { name: 'auth-bearer-value' }).fill(token);
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    await expect(bearer).toContainText('Authorized');
    await bearer.getByRole('button', { name: 'Close' }).click();

    const op = page.locator('#operations-account-whoami');
    await op.locator('.opblock-summary').click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    await op.getByRole('button', { name: 'Execute' }).click();
    const body = op.locator('.live-responses-table .response-col_description pre').first();
    await expect(body).toContainText('"auth": "key"');
    await expect(body).toContainText(`"username": "${user.username}"`);
    await expect(body).toContainText('"level": 0');
  });

  test('a visitor going to /account/keys lands on /login', async ({ page }) => {
    const response = await page.goto('/account/keys');
    expect(response?.ok()).toBeTruthy();
    await expectSignedOutOnLogin(page);
    await expect(page.getByRole('heading', { name: 'API keys' })).toHaveCount(0);
    await expect(mainNav(page).getByRole('link', { name: 'API keys' })).toHaveCount(0);
  });
});

import AxeBuilder from '@axe-core/playwright';
import { allowFailedLoad, test, expect } from './fixtures';
import { bearer, createKey, createStaff, logIn, partsOf, signUpAndOpenKeys, waitForHydration } from './helpers';

test.describe("the operator's console", () => {
  test('an admin finds the busiest key, throttles it, suspends its owner; the owner sees why', async ({ browser, request }) => {
    test.setTimeout(120_000);
    // The owner: a key, and a script that uses it more than anyone.
    const ownerContext = await browser.newContext();
    const ownerPage = await ownerContext.newPage();
    const owner = await signUpAndOpenKeys(ownerPage, 'busy');
    const token = await createKey(ownerPage, 'hammer', '30 days');
    const { id } = partsOf(token);
    for (let i = 0; i < 40; i++) {
      expect((await request.get('/api/v1/whoami', { headers: bearer(token) })).status()).toBe(200);
    }

    // The admin finds it at the top of today's busiest keys (other tests' keys made fewer calls).
    const admin = createStaff('root', 'admin');
    const adminContext = await browser.newContext();
    const page = await adminContext.newPage();
    await logIn(page, admin);
    await waitForHydration(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Operator console');
    await waitForHydration(page);
    const busiest = page.getByTestId('busiest-today');
    const row = busiest.locator(`tr[data-key-id="${id}"]`);
    await expect(row).toContainText(owner.username);
    await expect(row.locator('td').nth(3)).toHaveText(/^\d+$/);
    expect(Number(await row.locator('td').nth(3).innerText())).toBeGreaterThanOrEqual(40);
    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations, JSON.stringify(axe.violations, null, 2)).toEqual([]);

    // Lower its limit, with a reason; the form asks for confirmation first.
    await row.getByRole('link', { name: 'hammer' }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/keys/${id}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Key “hammer”');
    await waitForHydration(page);
    await expect(page.getByTestId('usage-chart')).toBeVisible();
    const form = page.getByTestId('limits-form');
    await form.getByLabel(/Requests per minute/).fill('2');
    await form.getByLabel('Reason (the owner sees it)').fill('Calls far more than anyone; please batch.');
    await form.getByRole('button', { name: 'Set limits' }).click();
    // Not confirmed: nothing changes.
    await expect(page.getByTestId('key-limits')).toHaveText(/^60 \/ min/);
    await form.getByTestId('limits-confirm').check();
    await form.getByRole('button', { name: 'Set limits' }).click();
    await expect(page.getByTestId('key-limits')).toHaveText('2 / min · 10,000 / day (set for this key)');
    const axeKey = await new AxeBuilder({ page }).analyze();
    expect(axeKey.violations, JSON.stringify(axeKey.violations, null, 2)).toEqual([]);

    // The owner's script gets 429 within its next calls.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await request.get('/api/v1/whoami', { headers: bearer(token) })).status());
    }
    expect(statuses.slice(2)).toEqual([429, 429]);

    // The owner sees the reason in their Activity.
    await ownerPage.goto('/account');
    await waitForHydration(ownerPage);
    const changed = ownerPage.locator('[data-testid="activity"] li[data-kind="key_limits_changed"]');
    await expect(changed).toContainText('Key limits changed');
    await expect(changed).toContainText(`by ${admin.username}: Calls far more than anyone; please batch.`);

    // The admin suspends the owner: the key fails, the owner's session ends.
    await page.getByRole('link', { name: owner.username }).first().click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(owner.username);
    await waitForHydration(page);
    const suspend = page.getByTestId('suspend-form');
    await suspend.getByLabel('Reason (the owner sees it)').fill('Ignored the limit.');
    await suspend.getByTestId('suspend-confirm').check();
    await suspend.getByRole('button', { name: 'Suspend' }).click();
    await expect(page.getByTestId('user-state')).toHaveText(/^suspended since .+: Ignored the limit\.$/);
    const refused = await request.get('/api/v1/whoami', { headers: bearer(token) });
    expect(refused.status()).toBe(403);
    expect((await refused.json()).code).toBe('account_suspended');
    await ownerPage.reload();
    await expect(ownerPage).toHaveURL(/\/login$/);
    const axeUser = await new AxeBuilder({ page }).analyze();
    expect(axeUser.violations, JSON.stringify(axeUser.violations, null, 2)).toEqual([]);

    // The operator log lists both actions, newest first.
    await page.goto('/admin');
    const log = page.getByTestId('operator-log');
    await expect(log.locator('li').first()).toHaveAttribute('data-kind', 'account_suspended');
    await expect(log.locator('li[data-kind="key_limits_changed"]').first()).toContainText(owner.username);
    await ownerContext.close();
    await adminContext.close();
  });

  test('anyone below staff gets the ordinary 404 at /admin, and no Admin link', async ({ page }) => {
    allowFailedLoad(page, /^\/admin/);
    const anonymous = await page.request.get('/admin');
    expect(anonymous.status()).toBe(404);
    await signUpAndOpenKeys(page, 'plain');
    const response = await page.goto('/admin');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
    const other = await page.goto('/admin/users');
    expect(other?.status()).toBe(404);
  });

  test('the console reads without JavaScript', async ({ browser }) => {
    const support = createStaff('helper', 'support');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Username or email').fill(support.username);
    await page.getByLabel('Password').fill(support.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await expect(page).toHaveURL(/\/account$/);
    await page.goto('/admin');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Operator console');
    await expect(page.getByTestId('instance-stats')).toBeVisible();
    await page.goto(`/admin/users?q=${support.username}`);
    await expect(page.getByTestId('users-table').getByRole('link', { name: support.username })).toBeVisible();
    // Support (7) may suspend but not change roles (8).
    await page.getByTestId('users-table').getByRole('link', { name: support.username }).click();
    await expect(page.getByTestId('user-role')).toHaveText('support (level 7)');
    await expect(page.getByTestId('role-form')).toHaveCount(0);
    await context.close();
  });
});

import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { allowFailedLoad, test, expect } from './fixtures';
import { createKey, createStaff, logIn, signUpAndOpenKeys, waitForHydration } from './helpers';

// Every page, as a visitor, a signed-in person and an admin, has no axe-core violation (all
// of axe's rules that apply, WCAG 2.x A and AA included) once it has hydrated. The fixture
// fails each test on any console error as well; the not-found page's own 404 is the one
// failed load allowed.
//
// Each test loads several pages and runs axe on each, on the debug build's WebAssembly: the
// default 30 s per test is too short for that on a busy 2-core machine (the visitors' six
// pages took 33.5 s once while a release build ran beside them), so each gets 90 s.
test.describe.configure({ timeout: 90_000 });

async function expectAccessible(page: Page, what: string): Promise<void> {
  await waitForHydration(page);
  const { violations } = await new AxeBuilder({ page }).analyze();
  const summary = violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(summary, `axe-core violations on ${what}`).toEqual([]);
}

async function visit(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
  await expectAccessible(page, path);
}

test('the pages a visitor sees are accessible', async ({ page }) => {
  await visit(page, '/', /measurements/);
  await visit(page, '/signup', 'Create your Tapeline account');
  await visit(page, '/login', 'Log in');
  await visit(page, '/curated', 'Reference measurement sets');
  await visit(page, '/errors', 'Error codes');
  allowFailedLoad(page, /^\/no-such-page$/);
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await expectAccessible(page, 'the not-found page');
});

test('the pages of a signed-in person are accessible', async ({ page }) => {
  await signUpAndOpenKeys(page, 'axe');
  await expectAccessible(page, 'the keys page');
  // With no keys yet, the new-key form is open.
  await createKey(page, 'axe check', '30 days');
  await expectAccessible(page, 'the keys page showing a new key');

  await visit(page, '/account', 'Your account');
  await visit(page, '/sets', 'Measurement sets');
  await page.goto('/sets/new');
  await waitForHydration(page);
  await expectAccessible(page, 'the new-set editor');
  await page.getByLabel('Name').fill('Axe check');
  await page.getByTestId('m-waist').fill('720');
  await page.getByTestId('save-set').click();
  await expect(page).toHaveURL(/\/sets\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edit measurement set');
  await expectAccessible(page, 'the set editor');
  await visit(page, '/sets', 'Measurement sets');
  await expect(page.getByTestId('sets-table')).toBeVisible();
  await expectAccessible(page, 'the sets list with a set in it');
  await visit(page, '/patterns', 'Your patterns');
  await page.goto('/patterns/new');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New pattern');
  await expectAccessible(page, 'the new-pattern editor');
});

test("the operator's console is accessible", async ({ page }) => {
  const admin = createStaff('axeadmin', 'admin');
  await logIn(page, admin);
  await visit(page, '/admin', 'Operator console');
  await visit(page, '/admin/users', 'People');
  await page.getByRole('link', { name: admin.username }).first().click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+$/);
  // The URL changes before the account has loaded: check the page once it shows.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(admin.username);
  await expectAccessible(page, "an account's page in the console");
});

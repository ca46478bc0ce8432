import fs from 'node:fs';
import { test, expect } from './fixtures';
import { mainNav, signUp, submitLogIn, uniqueUser, waitForHydration } from './helpers';

test('profile and password are changed on the account page', async ({ page, browser, baseURL }) => {
  const user = uniqueUser('prof');
  await signUp(page, user);
  await waitForHydration(page);

  const profile = page.getByTestId('profile-form');
  const renamed = `${user.username}-x`;
  await profile.getByLabel('Username').fill(renamed);
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await expect(profile.getByRole('status')).toHaveText('Saved.');
  const me = await (await page.request.get('/api/v1/account')).json();
  expect(me.username).toBe(renamed);
  // A bad email is named next to its field and changes nothing.
  await profile.getByLabel('Email').fill('not an address');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await expect(profile.getByText('Enter an email address like name@example.com.')).toBeVisible();
  expect((await (await page.request.get('/api/v1/account')).json()).email).toBe(user.email);

  // Another browser signed in as the same person is signed out by the password change.
  const other = await browser.newContext({ baseURL });
  const otherPage = await other.newPage();
  await otherPage.goto('/login');
  await waitForHydration(otherPage);
  await submitLogIn(otherPage, renamed, user.password);
  await expect(otherPage).toHaveURL(/\/account$/);

  const password = page.getByTestId('password-form');
  await password.getByLabel('Current password').fill('not my password');
  await password.getByLabel('New password').fill('a brand new password');
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByText('This is not your current password.')).toBeVisible();
  await password.getByLabel('Current password').fill(user.password);
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByRole('status')).toHaveText('Password changed.');

  await otherPage.goto('/account');
  await expect(otherPage).toHaveURL(/\/login$/);
  await waitForHydration(otherPage);
  await submitLogIn(otherPage, renamed, 'a brand new password');
  await expect(otherPage).toHaveURL(/\/account$/);
  await other.close();
  // This browser stayed signed in.
  await page.reload();
  await expect(mainNav(page).getByText(renamed, { exact: true })).toBeVisible();
});

test('all data downloads, and deleting the account stops its keys at once', async ({ page, playwright, baseURL }) => {
  const user = uniqueUser('del');
  await signUp(page, user);
  const set = await (await page.request.post('/api/v1/sets', { data: { name: 'Mine', public: true, measurements: { waist: 700 } } })).json();
  const key = await (await page.request.post('/api/v1/apikeys', { data: { name: 'script', level: 2 } })).json();
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${key.token}` } });
  expect((await api.get('/api/v1/whoami')).status()).toBe(200);

  await page.reload();
  await waitForHydration(page);
  const download = page.waitForEvent('download');
  await page.getByTestId('export-link').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(new RegExp(`^tapeline-${user.username}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
  const exported = JSON.parse(fs.readFileSync((await file.path())!, 'utf8'));
  expect(exported.sets).toEqual([set]);
  expect(exported.api_keys.map((k: { name: string }) => k.name)).toEqual(['script']);
  expect(JSON.stringify(exported)).not.toContain(key.secret);

  const form = page.getByTestId('delete-account-form');
  await form.getByLabel('Your password').fill('wrong password');
  await page.getByTestId('delete-confirm').check();
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(form.getByText('This is not your current password.')).toBeVisible();
  expect((await api.get('/api/v1/whoami')).status()).toBe(200);

  await form.getByLabel('Your password').fill(user.password);
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(page.getByTestId('account-deleted')).toBeVisible();
  await expect(mainNav(page).getByRole('link', { name: 'Log in' })).toBeVisible();

  const refused = await api.get('/api/v1/whoami');
  expect(refused.status()).toBe(401);
  expect((await refused.json()).code).toBe('invalid_credentials');
  const anonymous = await playwright.request.newContext({ baseURL });
  expect((await anonymous.get(`/api/v1/public/sets/${set.id}`)).status()).toBe(404);
  await anonymous.dispose();
  await api.dispose();
});

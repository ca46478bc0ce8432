import { execFileSync } from 'node:child_process';
import { expect, type Browser, type Page } from '@playwright/test';
import { consoleErrorsOf, watchConsole } from './fixtures';

export interface TestUser {
  username: string;
  email: string;
  password: string;
}

/** A user no other test (or earlier run against the same database) has used. */
export function uniqueUser(prefix = 'e2e'): TestUser {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const username = `${prefix}-${suffix}`.toLowerCase();
  return {
    username,
    email: `${username}@example.com`,
    password: `correct horse ${suffix}`,
  };
}

/**
 * Waits until the WASM bundle has hydrated the page (an effect sets this attribute), then
 * checks that hydration did not fail: the attribute alone is not proof, because the effect
 * can still run after hydration panicked (seen with a server build not matching the WASM).
 */
export async function waitForHydration(page: Page): Promise<void> {
  watchConsole(page);
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(consoleErrorsOf(page), 'browser console errors during hydration').toEqual([]);
}

export function mainNav(page: Page) {
  return page.getByRole('navigation', { name: 'Main' });
}

/** Fills and submits the sign-up form; does not wait for the outcome. */
export async function submitSignUp(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

/** Fills and submits the log-in form; does not wait for the outcome. */
export async function submitLogIn(page: Page, login: string, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** Asserts the page is /account showing `user`, with a signed-in header. */
export async function expectAccountPage(page: Page, user: TestUser): Promise<void> {
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('account-details')).toBeVisible();
  await expect(page.getByTestId('account-username')).toHaveText(user.username);
  await expect(page.getByTestId('account-email')).toHaveText(user.email);
  const nav = mainNav(page);
  await expect(nav.getByText(user.username, { exact: true })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'Log out' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Log in' })).toHaveCount(0);
}

/** Asserts the page is /login with a visitor's header. */
export async function expectSignedOutOnLogin(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/login$/);
  const nav = mainNav(page);
  await expect(nav.getByRole('link', { name: 'Log in' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Sign up' })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'Log out' })).toHaveCount(0);
  await expect(page.getByLabel('Username or email')).toBeVisible();
}

/** Creates an account through the UI in a throwaway browser context. */
export async function createAccount(browser: Browser, baseURL: string | undefined, user: TestUser): Promise<void> {
  const context = await browser.newContext({ baseURL });
  try {
    const page = await context.newPage();
    watchConsole(page);
    await page.goto('/signup');
    await waitForHydration(page);
    await submitSignUp(page, user);
    await expectAccountPage(page, user);
    expect(consoleErrorsOf(page), 'browser console errors').toEqual([]);
  } finally {
    await context.close();
  }
}

/** Signs `user` up through the sign-up page, leaving `page` signed in on /account. */
export async function signUp(page: Page, user: TestUser): Promise<void> {
  await page.goto('/signup');
  await waitForHydration(page);
  await submitSignUp(page, user);
  await expectAccountPage(page, user);
}

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

/** Parses a date as the app writes it ("20 February 2027") as UTC midnight; fails on any other shape. */
export function parseLongDate(text: string): Date {
  const m = /^(\d{1,2}) ([A-Z][a-z]+) (\d{4})$/.exec(text.trim());
  expect(m, `"${text}" should be a date like "20 February 2027"`).not.toBeNull();
  const month = MONTHS.indexOf(m![2]);
  expect(month, `unknown month in "${text}"`).toBeGreaterThanOrEqual(0);
  return new Date(Date.UTC(Number(m![3]), month, Number(m![1])));
}

/** UTC midnight `days` days from now. */
export function utcDayIn(days: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
}

/** Asserts `date` is within a day of `expected` (the browser's and server's clocks may straddle midnight). */
export function expectSameDayRoughly(date: Date, expected: Date, what: string): void {
  const dayMs = 24 * 3600 * 1000;
  expect(Math.abs(date.getTime() - expected.getTime()), `${what}: ${date.toISOString()} vs ${expected.toISOString()}`)
    .toBeLessThanOrEqual(dayMs);
}

/** `YYYY-MM-DD` of a UTC date, as a date input takes it. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `tpl_` + 12-character id + `_` + 32-character secret + 6-character checksum. */
export const TOKEN_RE = /^tpl_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/;

export const LEVELS = [
  '0 — Authenticate only (whoami)',
  '1 — Read own measurement sets and patterns',
  '2 — Read all own account data',
  '3 — Write own measurement sets and patterns',
  '4 — Write all own account data and manage API keys',
];

/** The key id and the HTTP Basic secret inside a token. */
export function partsOf(token: string): { id: string; secret: string } {
  return { id: token.slice(4, 16), secret: token.slice(17, 49) };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

export function basic(token: string): Record<string, string> {
  const { id, secret } = partsOf(token);
  return { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
}

/** Signs a new user up and opens their API keys page from the account page's link. */
export async function signUpAndOpenKeys(page: Page, prefix: string): Promise<TestUser> {
  const user = uniqueUser(prefix);
  await signUp(page, user);
  await page.getByRole('link', { name: 'Manage API keys' }).click();
  await expect(page).toHaveURL(/\/account\/keys$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');
  await waitForHydration(page);
  return user;
}

/** Fills and submits the new-key form (already open); returns the token shown. */
export async function createKey(page: Page, name: string, expires: string): Promise<string> {
  const form = page.getByTestId('new-key-form');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel(expires, { exact: true }).check();
  await form.getByRole('button', { name: 'Create key' }).click();
  const panel = page.getByTestId('new-token-panel');
  await expect(panel.getByRole('heading')).toHaveText(`Your new key “${name}”`);
  const token = (await panel.getByTestId('new-token').innerText()).trim();
  expect(token).toMatch(TOKEN_RE);
  return token;
}


/**
 * Creates an account with a staff role the way an operator does — `tapeline users create`
 * on the server's own database — and returns it (not signed in).
 */
export function createStaff(prefix: string, role: 'curator' | 'support' | 'admin'): TestUser {
  const user = uniqueUser(prefix);
  const dataDir = process.env.E2E_DATA_DIR;
  const bin = process.env.E2E_BIN;
  if (!dataDir || !bin) throw new Error('E2E_DATA_DIR / E2E_BIN are set by playwright.config.ts');
  execFileSync(bin, ['users', 'create', '--username', user.username, '--email', user.email, '--password-stdin', '--role', role], {
    input: `${user.password}\n`,
    env: { ...process.env, TAPELINE_DATA_DIR: dataDir, TAPELINE_LOG: 'warn' },
  });
  return user;
}

/** Logs `user` in on `page` and waits for the account page. */
export async function logIn(page: Page, user: TestUser): Promise<void> {
  await page.goto('/login');
  await waitForHydration(page);
  await submitLogIn(page, user.username, user.password);
  await expect(page).toHaveURL(/\/account$/);
}

import { test, expect } from './fixtures';
import {
  createAccount,
  expectAccountPage,
  expectSignedOutOnLogin,
  mainNav,
  submitLogIn,
  submitSignUp,
  uniqueUser,
  waitForHydration,
} from './helpers';

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

/** Parses "22 November 2026" as a UTC date; fails the test on any other shape. */
function parseMemberSince(text: string): Date {
  const m = /^(\d{1,2}) ([A-Z][a-z]+) (\d{4})$/.exec(text.trim());
  expect(m, `member-since "${text}" should look like "22 November 2026"`).not.toBeNull();
  const month = MONTHS.indexOf(m![2]);
  expect(month, `unknown month in "${text}"`).toBeGreaterThanOrEqual(0);
  return new Date(Date.UTC(Number(m![3]), month, Number(m![1])));
}

test.describe('accounts', () => {
  test('sign up, log out, and log back in with the email address', async ({ page }) => {
    const user = uniqueUser('signup');

    await page.goto('/signup');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create your Tapeline account');
    await waitForHydration(page);
    await submitSignUp(page, user);

    await expectAccountPage(page, user);
    await expect(page.getByTestId('account-role')).toHaveText(/^user \(access level 4\)$/);
    const since = parseMemberSince(await page.getByTestId('account-member-since').innerText());
    // Created just now: the date is today's in some time zone, so within a day of now.
    expect(Math.abs(since.getTime() - Date.now())).toBeLessThan(2 * 24 * 3600 * 1000);

    // The session cookie is what keeps us signed in across a full page load.
    await page.reload();
    await expectAccountPage(page, user);

    await waitForHydration(page);
    await mainNav(page).getByRole('button', { name: 'Log out' }).click();
    await expectSignedOutOnLogin(page);

    // The session is really gone, not just hidden by the header.
    await page.goto('/account');
    await expectSignedOutOnLogin(page);

    await waitForHydration(page);
    await submitLogIn(page, user.email, user.password);
    await expectAccountPage(page, user);
    await expect(page.getByTestId('account-role')).toHaveText(/^user \(access level 4\)$/);
  });

  test('a wrong password is refused and the account stays locked away', async ({ page, browser, baseURL }) => {
    const user = uniqueUser('wrongpw');
    await createAccount(browser, baseURL, user);

    await page.goto('/login');
    await waitForHydration(page);
    await submitLogIn(page, user.username, `${user.password}-wrong`);

    const formError = page.locator('.form-error[role="alert"]');
    await expect(formError).toHaveText('The username or password is not correct.');
    await expect(page).toHaveURL(/\/login$/);
    await expect(mainNav(page).getByRole('link', { name: 'Log in' })).toBeVisible();

    await page.goto('/account');
    await expectSignedOutOnLogin(page);

    // The right password (by username this time) still works after one failure.
    await waitForHydration(page);
    await submitLogIn(page, user.username, user.password);
    await expectAccountPage(page, user);
  });

  test('visiting /account signed out redirects to /login', async ({ page }) => {
    const response = await page.goto('/account');
    expect(response?.ok()).toBeTruthy();
    await expectSignedOutOnLogin(page);
    await expect(page.getByTestId('account-details')).toHaveCount(0);
  });

  test('a taken username is reported next to the Username field', async ({ page, browser, baseURL }) => {
    const first = uniqueUser('dupe');
    await createAccount(browser, baseURL, first);

    const second = { ...uniqueUser('dupe'), username: first.username };
    await page.goto('/signup');
    await waitForHydration(page);
    await submitSignUp(page, second);

    await expect(page.locator('#field-username-error')).toContainText('is taken');
    await expect(page).toHaveURL(/\/signup$/);
    await expect(page.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');
    // The other fields were fine, so they carry no message.
    await expect(page.locator('#field-email-error')).toHaveText('');
    await expect(page.locator('#field-password-error')).toHaveText('');
    await expect(mainNav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
  });

  test('usernames are stored in lower case', async ({ page }) => {
    const user = uniqueUser('mixed');
    await page.goto('/signup');
    await waitForHydration(page);
    await submitSignUp(page, { ...user, username: user.username.toUpperCase() });
    await expectAccountPage(page, user);
  });
});

import { test, expect, type Browser, type Page } from '@playwright/test';
import {
  expectAccountPage,
  expectSignedOutOnLogin,
  mainNav,
  submitLogIn,
  submitSignUp,
  uniqueUser,
  type TestUser,
} from './helpers';

/** Runs `body` in a fresh context with JavaScript off, so only plain HTML forms work. */
async function withoutJs(browser: Browser, baseURL: string | undefined, body: (page: Page) => Promise<void>) {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL });
  try {
    await body(await context.newPage());
  } finally {
    await context.close();
  }
}

async function signUpWithoutJs(page: Page, user: TestUser) {
  await page.goto('/signup');
  // No script ran, so the page was never hydrated.
  await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  await submitSignUp(page, user);
  await expectAccountPage(page, user);
}

test.describe('without JavaScript', () => {
  test('the plain sign-up form creates the account and lands on /account', async ({ browser, baseURL }) => {
    await withoutJs(browser, baseURL, async (page) => {
      const user = uniqueUser('nojs');
      await signUpWithoutJs(page, user);
      await expect(page.getByTestId('account-role')).toHaveText(/^user \(access level 4\)$/);
    });
  });

  test('plain forms log out and log back in, and the header follows', async ({ browser, baseURL }) => {
    await withoutJs(browser, baseURL, async (page) => {
      const user = uniqueUser('nojsout');
      await signUpWithoutJs(page, user);

      await mainNav(page).getByRole('button', { name: 'Log out' }).click();
      await expectSignedOutOnLogin(page);

      await submitLogIn(page, user.username, user.password);
      await expectAccountPage(page, user);
    });
  });
});

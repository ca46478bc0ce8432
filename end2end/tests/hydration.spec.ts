import { type Request } from '@playwright/test';
import { test, expect } from './fixtures';
import { waitForHydration } from './helpers';

test.describe('hydration', () => {
  test('sign-up form checks fields in the browser once hydrated, with a clean console', async ({ page, consoleErrors }) => {
    await page.goto('/signup');
    await waitForHydration(page);

    // From here on, nothing may leave the page: the checks run in WASM.
    const sent: Request[] = [];
    page.on('request', (req) => {
      if (req.method() !== 'GET' || req.isNavigationRequest()) sent.push(req);
    });
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    const username = page.getByLabel('Username');
    const email = page.getByLabel('Email');
    const password = page.getByLabel('Password');
    const passwordError = page.locator('#field-password-error');
    const emailError = page.locator('#field-email-error');

    await expect(passwordError).toHaveText('');
    await expect(emailError).toHaveText('');

    // A too-short password, then focus moves elsewhere.
    await password.fill('abc');
    await username.click();
    await expect(passwordError).toHaveText('Use at least 8 characters.');
    await expect(password).toHaveAttribute('aria-invalid', 'true');

    // A malformed email address.
    await email.fill('not-an-email');
    await password.click();
    await expect(emailError).toHaveText('Enter an email address like name@example.com.');
    await expect(email).toHaveAttribute('aria-invalid', 'true');
    // The password message stays until the password is fixed.
    await expect(passwordError).toHaveText('Use at least 8 characters.');

    // Fixing the password clears its message; the email one remains.
    await password.fill('long enough password');
    await username.click();
    await expect(passwordError).toHaveText('');
    await expect(password).toHaveAttribute('aria-invalid', 'false');
    await expect(emailError).toHaveText('Enter an email address like name@example.com.');

    // Fixing the email clears its message too.
    await email.fill('someone@example.com');
    await username.click();
    await expect(emailError).toHaveText('');

    await expect(page).toHaveURL(/\/signup$/);
    expect(navigations, 'no navigation while checking fields').toBe(0);
    expect(sent.map((r) => `${r.method()} ${r.url()}`), 'no request sent while checking fields').toEqual([]);
    // Asserted here explicitly (the fixture checks it again after the test).
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('transfer', () => {
  test('the page hydrates under its Content-Security-Policy, and the WebAssembly arrives compressed and cacheable', async ({ page }) => {
    const wasm = page.waitForResponse((res) => /\/pkg\/tapeline\.[0-9a-f]{20}\.wasm$/.test(new URL(res.url()).pathname));
    const document = await page.goto('/login');
    const csp = (await document!.allHeaders())['content-security-policy'];
    expect(csp).toMatch(/script-src 'nonce-[^']+' 'strict-dynamic' 'wasm-unsafe-eval'/);
    // Hydration itself is the proof that the policy lets the app run (a violation would
    // also be a console error, which fails every test).
    await waitForHydration(page);
    const response = await wasm;
    const headers = await response.allHeaders();
    expect(headers['content-encoding'] ?? '', 'the WebAssembly is sent compressed').toMatch(/^(br|gzip)$/);
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // What crossed the wire, against the file itself (asked for without compression).
    const sizes = await response.request().sizes();
    const plain = await page.request.fetch(response.url(), { method: 'HEAD', headers: { 'Accept-Encoding': 'identity' } });
    const size = Number(plain.headers()['content-length']);
    expect(size).toBeGreaterThan(0);
    expect(sizes.responseBodySize, `${sizes.responseBodySize} bytes transferred for a file of ${size}`).toBeLessThan(size / 2);
  });
});

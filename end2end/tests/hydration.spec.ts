import { type Request } from '@playwright/test';
import { test, expect } from './fixtures';
import { mainNav, waitForHydration } from './helpers';

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
    // The bundle's files live in a directory named by a hash of them all (scripts/build.sh).
    const wasm = page.waitForResponse((res) => /^\/pkg\/[0-9a-f]{20}\/tapeline\.wasm$/.test(new URL(res.url()).pathname));
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

  test("a page loads only its own area's WebAssembly, preloaded, and another area's when navigated to", async ({ page, consoleErrors }) => {
    const modules: string[] = [];
    const cacheControl = new Map<string, string>();
    page.on('response', async (res) => {
      const path = new URL(res.url()).pathname;
      if (/^\/pkg\/[0-9a-f]{20}\/[^/]+\.wasm$/.test(path)) {
        modules.push(path.split('/').pop()!);
        cacheControl.set(path, (await res.allHeaders())['cache-control'] ?? '');
      }
    });
    await page.goto('/login');
    // The server names the page's modules in preload links, so the browser fetches them
    // beside the main module rather than after it.
    const preloaded = await page.locator('link[rel="preload"][type="application/wasm"]').evaluateAll((links) =>
      links.map((l) => new URL((l as HTMLLinkElement).href).pathname.split('/').pop()!),
    );
    expect(preloaded).toContain('tapeline.wasm');
    expect(preloaded.some((m) => m.startsWith('split_sign_in_')), `preloaded: ${preloaded}`).toBe(true);
    expect(preloaded.some((m) => m.startsWith('split_console_')), 'the console is not preloaded for the log-in page').toBe(false);
    await waitForHydration(page);
    expect(modules).toContain('tapeline.wasm');
    expect(modules.some((m) => m.startsWith('split_sign_in_')), `fetched: ${modules}`).toBe(true);
    for (const area of ['split_console_', 'split_sets_', 'split_patterns_', 'split_curated_']) {
      expect(modules.some((m) => m.startsWith(area)), `the log-in page fetched ${area}: ${modules}`).toBe(false);
    }
    for (const [path, value] of cacheControl) expect(value, path).toBe('public, max-age=31536000, immutable');

    // Another area, reached in the browser: its module is fetched then, and the page works.
    await mainNav(page).getByRole('link', { name: 'Reference sets' }).click();
    await expect(page).toHaveURL(/\/curated$/);
    await expect(page.getByRole('heading', { name: 'Reference measurement sets' })).toBeVisible();
    await expect.poll(() => modules.some((m) => m.startsWith('split_curated_'))).toBe(true);
    await expect(page.getByTestId('curated-gallery')).toBeVisible();
    expect(consoleErrors).toEqual([]);
  });
});

import { test as base, expect, type Page } from '@playwright/test';

const collected = new WeakMap<Page, string[]>();
const expectedFailures = new WeakMap<Page, RegExp[]>();

/**
 * Declares that loading addresses matching `pathname` may fail with a 4xx on `page` (a test
 * that checks a "not found" page, say), so Chromium's log line for it is not an error.
 */
export function allowFailedLoad(page: Page, pathname: RegExp): void {
  expectedFailures.set(page, [...(expectedFailures.get(page) ?? []), pathname]);
}

/**
 * Records console errors and uncaught page errors (a failed hydration shows up as both:
 * "A hydration error occurred…" and a wasm "unreachable" panic) so tests can assert none.
 */
export function watchConsole(page: Page): string[] {
  const existing = collected.get(page);
  if (existing) return existing;
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url ?? '';
    if (/favicon\.ico/.test(where) || /favicon\.ico/.test(msg.text())) return;
    // Chromium logs every 4xx response; a server function refusing a form (401 wrong
    // password, 409 taken username, 422 invalid field) is expected and shown in the page.
    const pathname = new URL(where, 'http://x').pathname;
    const allowed = [/\/ui\//, ...(expectedFailures.get(page) ?? [])];
    if (
      /^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) &&
      allowed.some((re) => re.test(pathname))
    ) {
      return;
    }
    errors.push(`console.error: ${msg.text().split('\n')[0]} (${where})`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message.split('\n')[0]}`));
  collected.set(page, errors);
  return errors;
}

export function consoleErrorsOf(page: Page): string[] {
  return collected.get(page) ?? [];
}

/** `test` whose `page` fails the test on any console error or uncaught page error. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors = watchConsole(page);
      await use(errors);
      expect(errors, 'browser console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

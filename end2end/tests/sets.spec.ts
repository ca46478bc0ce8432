import { type APIRequestContext, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { expectSignedOutOnLogin, mainNav, signUp, uniqueUser, waitForHydration } from './helpers';

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Creates an API key with the page's session (same-site, as the keys page would); returns its token. */
async function createKey(page: Page, baseURL: string, name: string, level: number): Promise<string> {
  const res = await page.request.post('/api/v1/apikeys', {
    headers: { Origin: new URL(baseURL).origin },
    data: { name, level },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).token;
}

/** Creates a set with the page's session through the REST API; returns its id. */
async function createSet(page: Page, baseURL: string, body: object): Promise<number> {
  const res = await page.request.post('/api/v1/sets', { headers: { Origin: new URL(baseURL).origin }, data: body });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

/** Signs a new user up, and opens the sets page from the header. */
async function signUpAndOpenSets(page: Page, prefix: string): Promise<void> {
  await signUp(page, uniqueUser(prefix));
  await waitForHydration(page);
  await mainNav(page).getByRole('link', { name: 'Sets', exact: true }).click();
  await expect(page).toHaveURL(/\/sets$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Measurement sets');
}

/** Opens a new set's editor from /sets, hydrated. */
async function openNewSet(page: Page): Promise<void> {
  await page.getByTestId('new-set').click();
  await expect(page).toHaveURL(/\/sets\/new$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New measurement set');
  await waitForHydration(page);
}

/** Saves the editor and waits until the save is done. */
async function save(page: Page): Promise<void> {
  await page.getByTestId('save-set').click();
  await expect(page.getByTestId('unsaved')).toHaveCount(0);
  await expect(page.getByTestId('save-set')).toHaveText('Save changes');
}

function setIdOf(page: Page): number {
  const m = /\/sets\/(\d+)$/.exec(new URL(page.url()).pathname);
  expect(m, page.url()).not.toBeNull();
  return Number(m![1]);
}

async function measurementsOf(request: APIRequestContext, id: number, headers: Record<string, string> = {}) {
  const res = await request.get(`/api/v1/sets/${id}`, { headers });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).measurements;
}

test.describe('measurement sets', () => {
  test('create a set in the browser, read and change it with keys, see the change', async ({ page, request, baseURL }) => {
    await signUpAndOpenSets(page, 'sets');
    await waitForHydration(page);
    await expect(page.getByTestId('sets-empty')).toContainText('No measurement sets yet.');
    await openNewSet(page);
    await expect(page.getByTestId('rounding-hint')).toContainText('rounded to 0.1 mm');

    await page.getByLabel('Name').fill('E2E body');
    await page.getByTestId('m-waist').fill('720.5');
    await page.getByTestId('m-hips').fill('980');
    await page.getByTestId('m-shoulderSlope').fill('13');
    await expect(page.getByTestId('unsaved')).toHaveText('Unsaved changes');

    // In inches: what was typed is shown converted; degrees stay degrees. Then one typed in inches.
    await page.getByTestId('unit-in').click();
    await expect(page.getByTestId('m-waist')).toHaveValue('28.37');
    await expect(page.getByTestId('m-waist-unit')).toHaveText('in');
    await expect(page.getByTestId('m-shoulderSlope')).toHaveValue('13');
    await expect(page.getByTestId('m-shoulderSlope-unit')).toHaveText('°');
    await page.getByTestId('m-neck').fill('15.01');
    await page.getByTestId('unit-mm').click();
    await expect(page.getByTestId('m-neck')).toHaveValue('381.3');
    // Back in mm, the value typed in mm is exactly as typed.
    await expect(page.getByTestId('m-waist')).toHaveValue('720.5');

    // Saving shows its pending state; the new set's editor follows.
    await page.route('**/ui/sets/create', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await route.continue();
    });
    await page.getByTestId('save-set').click();
    await expect(page.getByTestId('save-set')).toHaveText('Saving…');
    await expect(page).toHaveURL(/\/sets\/\d+$/);
    const id = setIdOf(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edit measurement set');
    await expect(page.getByTestId('unsaved')).toHaveCount(0);
    await expect(page.getByTestId('m-neck')).toHaveValue('381.3');

    // Stored in mm: 15.01 in × 25.4 = 381.254 → 381.3.
    expect(await measurementsOf(page.request, id)).toEqual({ waist: 720.5, hips: 980, shoulderSlope: 13, neck: 381.3 });

    // A level-1 key reads it but may not change it.
    const reader = await createKey(page, baseURL!, 'reader', 1);
    expect(await measurementsOf(request, id, bearer(reader))).toEqual({ waist: 720.5, hips: 980, shoulderSlope: 13, neck: 381.3 });
    const refused = await request.patch(`/api/v1/sets/${id}`, { headers: bearer(reader), data: { measurements: { waist: 725 } } });
    expect(refused.status()).toBe(403);
    expect(refused.headers()['content-type']).toMatch(/^application\/problem\+json/);
    expect((await refused.json()).code).toBe('level_too_low');

    // A level-3 key changes it; the editor shows the change after a reload.
    const writer = await createKey(page, baseURL!, 'writer', 3);
    const patched = await request.patch(`/api/v1/sets/${id}`, { headers: bearer(writer), data: { measurements: { waist: 725, hips: null } } });
    expect(patched.status(), await patched.text()).toBe(200);
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('m-waist')).toHaveValue('725');
    await expect(page.getByTestId('m-hips')).toHaveValue('');
    await expect(page.getByTestId('m-neck')).toHaveValue('381.3');

    // Switching units back and forth and saving another field leaves the others exactly as stored.
    await page.getByTestId('unit-in').click();
    await page.getByTestId('unit-mm').click();
    await page.getByTestId('unit-in').click();
    await page.getByTestId('m-wrist').fill('6.5');
    await save(page);
    expect(await measurementsOf(page.request, id)).toEqual({ waist: 725, shoulderSlope: 13, neck: 381.3, wrist: 165.1 });
  });

  test.describe('with clipboard access', () => {
    test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

    test('a set marked public in the browser has a share link anyone can read', async ({ page, baseURL, playwright }) => {
      await signUpAndOpenSets(page, 'share');
      await waitForHydration(page);
      const id = await createSet(page, baseURL!, { name: 'Shared', measurements: { waist: 700, neck: 350 } });
      await page.goto(`/sets/${id}`);
      await waitForHydration(page);
      await expect(page.getByTestId('share-panel')).toHaveCount(0);

      await page.getByTestId('set-public').check();
      await expect(page.getByTestId('share-pending')).toBeVisible();
      await save(page);
      const origin = new URL(baseURL!).origin;
      const url = `${origin}/api/v1/public/sets/${id}`;
      await expect(page.getByTestId('share-url')).toHaveText(url);
      await expect(page.getByTestId('share-url-yaml')).toHaveText(`${url}?format=yaml`);
      await page.getByTestId('copy-share-url').click();
      await expect(page.getByTestId('copy-status')).toHaveText('Copied to the clipboard.');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toBe(url);
      expect((await page.request.get(`/api/v1/sets/${id}`)).status()).toBe(200);
      expect((await (await page.request.get(`/api/v1/sets/${id}`)).json()).public).toBe(true);

      // Anyone, with no session and no key (needs the public route, GET /api/v1/public/sets/{id}).
      const anonymous = await playwright.request.newContext();
      try {
        const res = await anonymous.get(copied);
        expect(res.status(), await res.text()).toBe(200);
        expect(res.headers()['content-type']).toMatch(/^application\/json/);
        expect((await res.json()).measurements).toEqual({ waist: 700, neck: 350 });
      } finally {
        await anonymous.dispose();
      }
    });
  });

  test('search narrows the list as you type, and as a plain GET', async ({ page, baseURL }) => {
    await signUpAndOpenSets(page, 'search');
    const autumn = await createSet(page, baseURL!, { name: 'Autumn coat', measurements: { chest: 1000 } });
    const spring = await createSet(page, baseURL!, { name: 'Spring dress', public: true });
    await page.goto('/sets');
    await waitForHydration(page);
    const rows = page.locator('[data-testid="sets-table"] tbody tr');
    await expect(rows).toHaveCount(2);
    await expect(page.locator(`tr[data-set-id="${spring}"] [data-testid="public-badge"]`)).toHaveText('public');
    await expect(page.locator(`tr[data-set-id="${autumn}"] [data-testid="set-count"]`)).toHaveText('1 measurement');

    // Typing searches once typing pauses, without pressing Enter.
    await page.getByTestId('set-search').pressSequentially('AUTU', { delay: 30 });
    await expect(page).toHaveURL(/\/sets\?q=AUTU$/);
    await expect(rows).toHaveCount(1);
    await expect(page.locator(`tr[data-set-id="${autumn}"]`)).toHaveCount(1);
    await page.getByTestId('set-search').fill('winter');
    await expect(page.getByTestId('sets-empty')).toHaveText(/No sets match “winter”\./);
    await page.getByTestId('set-search').fill('');
    await expect(rows).toHaveCount(2);

    // The same search as a link (or before hydration).
    await page.goto('/sets?q=dress');
    await expect(rows).toHaveCount(1);
    await expect(page.getByTestId('set-search')).toHaveValue('dress');
    await rows.getByRole('link', { name: 'Spring dress' }).click();
    await expect(page).toHaveURL(new RegExp(`/sets/${spring}$`));
    await expect(page.getByLabel('Name')).toHaveValue('Spring dress');
  });

  test('unsaved changes: a visible note, a beforeunload dialog, and a confirm on in-app links', async ({ page, baseURL }) => {
    await signUpAndOpenSets(page, 'dirty');
    const id = await createSet(page, baseURL!, { name: 'Dirty', measurements: { waist: 700 } });
    await page.goto(`/sets/${id}`);
    await waitForHydration(page);
    await expect(page.getByTestId('unsaved')).toHaveCount(0);

    // Switching units alone changes nothing.
    await page.getByTestId('unit-in').click();
    await expect(page.getByTestId('m-waist')).toHaveValue('27.56');
    await page.getByTestId('unit-mm').click();
    await expect(page.getByTestId('unsaved')).toHaveCount(0);

    await page.getByTestId('m-waist').fill('701');
    await expect(page.getByTestId('unsaved')).toHaveText('Unsaved changes');

    // An in-app link asks first; "Cancel" stays.
    const dialogs: string[] = [];
    page.once('dialog', async (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      await dialog.dismiss();
    });
    await mainNav(page).getByRole('link', { name: 'Sets', exact: true }).click();
    await expect.poll(() => dialogs).toEqual(['confirm: You have unsaved changes. Leave this page and lose them?']);
    await expect(page).toHaveURL(new RegExp(`/sets/${id}$`));
    await expect(page.getByTestId('m-waist')).toHaveValue('701');

    // Reloading asks too (beforeunload); leaving anyway loses the edit.
    const dialog = page.waitForEvent('dialog');
    const reload = page.reload();
    const unload = await dialog;
    expect(unload.type()).toBe('beforeunload');
    await unload.accept();
    await reload;
    await waitForHydration(page);
    await expect(page.getByTestId('m-waist')).toHaveValue('700');
    await expect(page.getByTestId('unsaved')).toHaveCount(0);

    // Edited back to the stored value: nothing to save.
    await page.getByTestId('m-waist').fill('701');
    await page.getByTestId('m-waist').fill('700');
    await expect(page.getByTestId('unsaved')).toHaveCount(0);

    // Dirty again; "OK" on the link's confirm leaves.
    await page.getByTestId('m-waist').fill('702');
    page.once('dialog', (d) => d.accept());
    await mainNav(page).getByRole('link', { name: 'Sets', exact: true }).click();
    await expect(page).toHaveURL(/\/sets$/);
    expect(await measurementsOf(page.request, id)).toEqual({ waist: 700 });
  });

  test('field errors: checked in the browser, and the server\'s next to their field', async ({ page }) => {
    await signUpAndOpenSets(page, 'errors');
    await waitForHydration(page);
    await openNewSet(page);
    const sent: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/ui/sets/')) sent.push(req.url());
    });

    await page.getByTestId('m-waist').fill('abc');
    await page.getByTestId('m-hips').fill('3000');
    await page.getByTestId('unit-in').click();
    await page.getByTestId('m-neck').click();
    await expect(page.locator('#m-waist-error')).toHaveText('Enter a number of millimetres, e.g. 720.5.');
    await expect(page.getByTestId('m-waist')).toHaveAttribute('aria-invalid', 'true');
    // 3000 mm is fine; 300 typed in inches (7620 mm) is not.
    await expect(page.locator('#m-hips-error')).toHaveText('');
    await page.getByTestId('m-hips').fill('300');
    await page.getByTestId('m-neck').click();
    await expect(page.locator('#m-hips-error')).toHaveText(/^7620 mm is more than the largest plausible value/);

    // Save is refused in the browser: nothing is sent.
    await page.getByTestId('save-set').click();
    await expect(page.getByTestId('save-set')).toHaveText('Create set');
    await page.waitForTimeout(300);
    expect(sent).toEqual([]);

    // Fixed values, but no name: the server's message appears next to the name.
    await page.getByTestId('m-waist').fill('28');
    await page.getByTestId('m-hips').fill('38');
    await page.getByTestId('save-set').click();
    await expect(page.locator('#set-name-error')).toHaveText('Give it a name.');
    expect(sent).toHaveLength(1);
    await expect(page).toHaveURL(/\/sets\/new$/);
    await expect(page.locator('#m-waist-error')).toHaveText('');

    await page.getByLabel('Name').fill('Fixed');
    await page.getByTestId('save-set').click();
    await expect(page).toHaveURL(/\/sets\/\d+$/);
    // Typed in inches, stored in mm.
    expect(await measurementsOf(page.request, setIdOf(page))).toEqual({ waist: 711.2, hips: 965.2 });
  });

  test('clone and delete (with a confirm dialog)', async ({ page, baseURL }) => {
    await signUpAndOpenSets(page, 'clone');
    const id = await createSet(page, baseURL!, { name: 'Original', imperial: true, measurements: { waist: 762 } });
    await page.goto(`/sets/${id}`);
    await waitForHydration(page);
    await expect(page.getByTestId('m-waist')).toHaveValue('30');

    await page.getByTestId('clone-set').click();
    await expect(page).not.toHaveURL(new RegExp(`/sets/${id}$`));
    await expect(page.getByLabel('Name')).toHaveValue('Original (copy)');
    const copy = setIdOf(page);
    expect(await measurementsOf(page.request, copy)).toEqual({ waist: 762 });

    await page.getByTestId('delete-set').click();
    const dialog = page.getByRole('alertdialog');
    await expect(dialog).toHaveAccessibleName('Delete “Original (copy)”?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    await page.getByTestId('delete-set').click();
    await dialog.getByRole('button', { name: 'Delete set' }).click();
    await expect(page).toHaveURL(/\/sets$/);
    await expect(page.locator(`tr[data-set-id="${copy}"]`)).toHaveCount(0);
    await expect(page.locator(`tr[data-set-id="${id}"]`)).toHaveCount(1);
    expect((await page.request.get(`/api/v1/sets/${copy}`)).status()).toBe(404);
  });

  test('a visitor going to /sets lands on /login', async ({ page }) => {
    const response = await page.goto('/sets');
    expect(response?.ok()).toBeTruthy();
    await expectSignedOutOnLogin(page);
    await expect(mainNav(page).getByRole('link', { name: 'Sets', exact: true })).toHaveCount(0);
  });
});

import { test, expect } from './fixtures';
import { signUp, uniqueUser, waitForHydration } from './helpers';

test('a pattern is created, edited and shared from the browser', async ({ page, playwright, baseURL }) => {
  const user = uniqueUser('pat');
  await signUp(page, user);
  // A set to link, made through the API with the page's session.
  const set = await (await page.request.post('/api/v1/sets', { data: { name: 'Me, for shirts', measurements: { chest: 960 } } })).json();

  await page.goto('/patterns');
  await waitForHydration(page);
  await expect(page.getByTestId('patterns-empty')).toBeVisible();
  await page.getByRole('link', { name: 'New pattern' }).click();
  await expect(page).toHaveURL(/\/patterns\/new$/);
  await waitForHydration(page);

  const form = page.getByTestId('pattern-form');
  await form.getByLabel('Name').fill('Beach shirt');
  await form.getByLabel('Design').fill('Aaron');
  await expect(form.getByText("Use the design's identifier")).toBeVisible();
  await form.getByLabel('Design').fill('aaron');
  await form.getByLabel('Made for').selectOption({ label: 'Me, for shirts' });
  // Settings are checked as JSON while typing, and the error sits next to the field.
  await form.getByLabel('Settings (JSON)').fill('{"sa": 10,');
  await expect(page.getByTestId('settings-error')).toContainText('Not valid JSON');
  await form.getByLabel('Settings (JSON)').fill('[1, 2]');
  await expect(page.getByTestId('settings-error')).toContainText('must be a JSON object');
  await form.getByLabel('Settings (JSON)').fill('{"sa": 10, "options": {"armholeDrop": 0.1}}');
  await expect(page.getByTestId('settings-error')).toBeEmpty();
  await expect(page.getByTestId('dirty-note')).toHaveText('Unsaved changes');
  await form.getByRole('button', { name: 'Create pattern' }).click();

  await expect(page).toHaveURL(/\/patterns\/\d+$/);
  const id = Number(page.url().split('/').pop());
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Beach shirt');
  await expect(page.getByTestId('dirty-note')).toBeEmpty();
  const stored = await (await page.request.get(`/api/v1/patterns/${id}`)).json();
  expect(stored).toMatchObject({ name: 'Beach shirt', design: 'aaron', set_id: set.id, public: false, settings: { sa: 10, options: { armholeDrop: 0.1 } } });

  // The design is fixed once created.
  await expect(form.getByLabel('Design')).toBeDisabled();

  // Unsaved edits: the browser asks before a reload throws them away (here the person
  // chooses to leave, and the edit is gone).
  await form.getByLabel('Notes').fill('cotton');
  await expect(page.getByTestId('dirty-note')).toHaveText('Unsaved changes');
  const dialog = page.waitForEvent('dialog');
  const reload = page.reload();
  const asked = await dialog;
  expect(asked.type()).toBe('beforeunload');
  await asked.accept();
  await reload;
  await waitForHydration(page);
  await expect(form.getByLabel('Notes')).toHaveValue('');
  await form.getByLabel('Notes').fill('linen, short sleeves');

  // Make it public and save; the share link is shown and works without an account.
  await form.getByLabel(/^Public/).check();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('dirty-note')).toBeEmpty();
  // Saved: a reload now asks nothing.
  page.on('dialog', (d) => { throw new Error(`unexpected ${d.type()} dialog after saving`); });
  await page.reload();
  await waitForHydration(page);
  await expect(form.getByLabel('Notes')).toHaveValue('linen, short sleeves');
  const shareUrl = await page.getByTestId('share-url').getAttribute('href');
  expect(shareUrl).toBe(`${baseURL}/api/v1/public/patterns/${id}`);
  const anonymous = await playwright.request.newContext();
  const yaml = await anonymous.get(`${shareUrl}?format=yaml`);
  expect(yaml.status()).toBe(200);
  expect(yaml.headers()['content-type']).toContain('application/yaml');
  expect(await yaml.text()).toContain('design: aaron');
  const json = await (await anonymous.get(shareUrl!)).json();
  expect(json).toMatchObject({ name: 'Beach shirt', notes: 'linen, short sleeves', public: true, set_id: null });
  await anonymous.dispose();

  // The list finds it by name.
  await page.goto('/patterns?q=beach');
  await expect(page.getByTestId('patterns-table').getByRole('link', { name: 'Beach shirt' })).toBeVisible();
  await page.goto('/patterns?q=trousers');
  await expect(page.getByTestId('patterns-empty')).toContainText('trousers');
});

test('a curated set is cloned into my sets from the gallery', async ({ page }) => {
  const user = uniqueUser('cur');
  await signUp(page, user);
  await page.goto('/curated');
  await waitForHydration(page);
  const cards = page.getByTestId('curated-card');
  expect(await cards.count()).toBeGreaterThanOrEqual(4);
  const card = cards.filter({ hasText: "women's EU 38" });
  const curated = (await (await page.request.get('/api/v1/curated-sets?q=EU%2038')).json()).sets[0];
  await card.getByRole('button', { name: 'Clone into my sets' }).click();
  await expect(page).toHaveURL(/\/sets\/\d+$/);
  const id = Number(page.url().split('/').pop());
  const mine = await (await page.request.get(`/api/v1/sets/${id}`)).json();
  expect(mine.name).toBe(curated.name);
  expect(mine.measurements).toEqual(curated.measurements);
  expect(mine.public).toBe(false);
});

test('visitors see the gallery and are asked to log in to clone', async ({ page }) => {
  await page.goto('/curated');
  await waitForHydration(page);
  await expect(page.getByTestId('curated-card').first().getByRole('link', { name: 'Log in to clone' })).toBeVisible();
});

import { test, expect } from './fixtures';
import { bearer, createKey, partsOf, signUpAndOpenKeys, waitForHydration } from './helpers';

/** The instance's default per-minute rate (the Playwright server runs with the defaults). */
const RATE = 60;

test.describe('fair use on the keys page', () => {
  test('a key called past its limit shows its counts, the refused notice and its chart; regenerating keeps the old key for the grace', async ({
    page,
    request,
  }) => {
    test.setTimeout(90_000);
    await signUpAndOpenKeys(page, 'limits');
    const token = await createKey(page, 'busy script', '30 days');
    const { id } = partsOf(token);

    // Call until the key's per-minute burst is spent and a few calls are refused.
    let answered = 0;
    let refused = 0;
    for (let i = 0; i < RATE * 3 && refused < 3; i++) {
      const response = await request.get('/api/v1/whoami', { headers: bearer(token) });
      const headers = response.headers();
      expect(headers['ratelimit-policy']).toBe('"minute";q=60;w=60, "day";q=10000;w=86400');
      if (response.status() === 200) {
        answered += 1;
        continue;
      }
      expect(response.status()).toBe(429);
      const body = await response.json();
      expect(body.code).toBe('rate_limited');
      expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(headers['ratelimit']).toMatch(/^"minute";r=0;t=\d+, "day";r=\d+;t=\d+$/);
      refused += 1;
    }
    expect(refused).toBe(3);
    expect(answered).toBeGreaterThanOrEqual(RATE);

    // The page counts exactly what the script saw, refused calls apart.
    await page.reload();
    await waitForHydration(page);
    const row = page.locator(`[data-testid="keys-table"] tr[data-key-id="${id}"]`);
    await expect(row.getByTestId('calls-today')).toHaveText(String(answered));
    await expect(row.getByTestId('refused-today')).toHaveText(`${refused} refused`);
    await expect(row.getByTestId('calls-30d')).toHaveText(String(answered));
    const notice = page.getByTestId('limit-notice');
    await expect(notice).toContainText('A key hit its limit today.');
    await expect(notice).toContainText(`“busy script”: ${refused} calls refused today (60 a minute, 10,000 a day).`);

    // The chart: 30 days, today's bar (the last) holding the calls and the refusals.
    const chart = row.getByTestId('usage-chart');
    await expect(chart.locator('g.day')).toHaveCount(30);
    const today = chart.locator('g.day').last();
    await expect(today).toHaveAttribute('data-day', new Date().toISOString().slice(0, 10));
    await expect(today).toHaveAttribute('data-calls', String(answered));
    await expect(today).toHaveAttribute('data-refused', String(refused));
    expect(Number(await today.locator('rect.calls').getAttribute('height'))).toBeGreaterThan(0);
    expect(Number(await today.locator('rect.refused').getAttribute('height'))).toBeGreaterThan(0);
    await expect(chart).toHaveAttribute('aria-label', new RegExp(`${answered} answered, ${refused} refused by limits`));

    // Regenerate with a grace of one day: a new token, and both keys listed with their expiries.
    await row.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toHaveAccessibleName('Regenerate “busy script”?');
    await dialog.getByLabel('1 day').check();
    await dialog.getByRole('button', { name: 'Regenerate key' }).click();
    const panel = page.getByTestId('new-token-panel');
    await expect(panel.getByRole('heading')).toHaveText('Your new key “busy script”');
    const fresh = (await panel.getByTestId('new-token').innerText()).trim();
    expect(fresh).not.toBe(token);
    const freshId = partsOf(fresh).id;

    const rows = page.locator('[data-testid="keys-table"] tbody tr');
    await expect(rows).toHaveCount(2);
    const oldRow = page.locator(`tr[data-key-id="${id}"]`);
    const newRow = page.locator(`tr[data-key-id="${freshId}"]`);
    await expect(oldRow.getByTestId('expiry-badge')).toHaveText(/^expires in (23 hours|24 hours|1 day)$/);
    await expect(newRow.getByTestId('key-name')).toHaveText('busy script');
    await expect(newRow.getByTestId('expiry-badge')).toHaveCount(0);
    await expect(newRow.getByTestId('calls-today')).toHaveText('0');

    // The new key has limits of its own; the old key still authenticates (it is limited, not dead).
    const mine = await request.get('/api/v1/whoami', { headers: bearer(fresh) });
    expect(mine.status()).toBe(200);
    expect((await mine.json()).key.id).toBe(freshId);
    const old = await request.get('/api/v1/whoami', { headers: bearer(token) });
    expect([200, 429]).toContain(old.status());
    expect(old.headers()['tapeline-key-expires']).toBeTruthy();

    // The owner's Activity lists the regeneration, newest first, and the limits being hit
    // (written with the usage, within seconds).
    await page.goto('/account');
    await waitForHydration(page);
    const activity = page.getByTestId('activity');
    await expect(activity.locator('li[data-kind="key_rotated"]')).toContainText('Key regenerated');
    await expect(activity.locator('li[data-kind="key_created"]')).toHaveCount(1);
    // Newest first: the regeneration above the creation, and above it at most the limits
    // event, which the usage flush writes within seconds — before or after the regeneration.
    const kinds = await activity.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')));
    const rotated = kinds.indexOf('key_rotated');
    expect(rotated).toBeLessThan(kinds.indexOf('key_created'));
    expect(kinds.slice(0, rotated).every((kind) => kind === 'key_limited'), kinds.join(', ')).toBe(true);
    await expect(async () => {
      await page.reload();
      await expect(page.locator('[data-testid="activity"] li[data-kind="key_limited"]')).toContainText(
        'Key hit its limits',
        { timeout: 1000 },
      );
    }).toPass({ timeout: 20_000 });
  });
});

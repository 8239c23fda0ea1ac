import { test, expect } from '@playwright/test';
import { ADMIN, confirm, signIn, signInAsAdmin, unique, createApp, hydrated } from './helpers';

test('pages hydrate: the wasm loads and no script error occurs', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const wasm = page.waitForResponse((r) => r.url().includes('/pkg/') && r.url().endsWith('.wasm'));
  await page.goto('/login');
  expect((await wasm).status()).toBe(200);
  await hydrated(page);
  expect(errors).toEqual([]);
});

test('a wrong password shows an error and no session', async ({ page }) => {
  await signIn(page, ADMIN.email, 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText('Wrong e-mail or password.');
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/login\?next=\/admin/);
});

test('the create form shows only the fields of the chosen kind', async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto('/admin/apps/new');
  await expect(page.getByLabel('Redirect URIs (one per line)')).toBeVisible();
  await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
  await expect(page.getByLabel('Redirect URIs (one per line)')).toBeHidden();
  await expect(page.getByText('Grant types')).toBeHidden();
  await page.locator('input[name="app[kind]"][value="on-behalf-of-user"]').check();
  await expect(page.getByLabel('Redirect URIs (one per line)')).toBeVisible();
});

test('admin creates apps of each kind, sees the secret once, rotates it, edits, disables and deletes', async ({ page }) => {
  await signInAsAdmin(page);

  // An own-behalf app: secret shown once.
  const ci = unique('CI pipeline');
  await createApp(page, ci, 'own-behalf');
  const secret = page.getByTestId('new-secret');
  await expect(secret).toBeVisible();
  const first = (await secret.textContent())!;
  expect(first).toMatch(/^lks_[A-Za-z0-9_-]{43}$/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('new-secret')).toHaveCount(0);
  await expect(page.getByText('Grant types')).toBeVisible();
  await expect(page.getByText('client_credentials', { exact: true })).toBeVisible();

  // Rotate, on the Credentials tab: add a second secret, then delete the old one.
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await expect(page).toHaveURL(/\/credentials$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Add a new secret' }).click();
  const second = page.getByTestId('new-secret');
  await expect(second).toBeVisible();
  expect(await second.textContent()).not.toEqual(first);
  await expect(page.locator('table.list tbody tr')).toHaveCount(2);
  await expect(page.getByRole('button', { name: 'Add a new secret' })).toHaveCount(0);
  // The first press only asks, naming what ends.
  await page.locator('summary', { hasText: 'Delete…' }).first().click();
  await expect(page.locator('table.list tbody tr')).toHaveCount(2);
  await page.locator('summary', { hasText: 'Delete…' }).first().click();
  await confirm(page, 'Delete', 'Requests that authenticate with it are refused at once');
  await expect(page.locator('table.list tbody tr')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Add a new secret' })).toBeVisible();

  // An on-behalf-of-user app; edit its redirect URIs.
  const web = unique('Web portal');
  await createApp(page, web, 'on-behalf-of-user', 'https://web.example.com/callback');
  await expect(page.getByTestId('new-secret')).toBeVisible();
  await page.getByLabel('Redirect URIs (one per line)').fill('https://web.example.com/callback\nhttp://127.0.0.1:8765/cb');
  // The hydrated form saves in the background; wait for its answer before reloading.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/update_app') && r.status() === 200),
    page.getByRole('button', { name: 'Save changes' }).click(),
  ]);
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Redirect URIs (one per line)')).toHaveValue('https://web.example.com/callback\nhttp://127.0.0.1:8765/cb');

  // A malformed redirect URI gets a field message and changes nothing.
  await page.getByLabel('Redirect URIs (one per line)').fill('http://evil.example.com/cb');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('.field-error')).toContainText('http is only allowed');
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Redirect URIs (one per line)')).toHaveValue('https://web.example.com/callback\nhttp://127.0.0.1:8765/cb');

  // Disable, then enable.
  await confirm(page, 'Disable app', 'every token it holds stops working');
  await expect(page.locator('.heading .badge')).toHaveText('disabled');
  await page.getByRole('button', { name: 'Enable app' }).click();
  await expect(page.locator('.heading .badge')).toHaveText('enabled');

  // Delete with confirmation.
  await page.getByLabel(/Type the app's name/).fill('wrong name');
  await page.getByRole('button', { name: 'Delete app' }).click();
  await expect(page.locator('.danger-zone .field-error')).toContainText('must repeat');
  await page.getByLabel(/Type the app's name/).fill(web);
  await page.getByRole('button', { name: 'Delete app' }).click();
  await expect(page.getByRole('heading', { name: 'Connected apps' })).toBeVisible();
  await page.getByPlaceholder('Search by name or client id').fill(web);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText(/No app matches/)).toBeVisible();
  await page.goto(`/admin?q=${encodeURIComponent(ci)}`);
  await expect(page.getByRole('link', { name: ci })).toBeVisible();
});

test('a member cannot open the admin pages', async ({ page }) => {
  await signInAsAdmin(page);
  const email = `member-${Date.now()}@example.com`;
  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Name').fill('Mia Member');
  await page.getByLabel('Initial password (at least 12 characters)').fill('member password 123');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('cell', { name: email, exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);

  await signIn(page, email, 'member password 123');
  await expect(page.getByRole('heading', { name: 'Welcome, Mia Member' })).toBeVisible();
  for (const path of ['/admin', '/admin/apps/new', '/admin/users', '/admin/org', '/admin/audit']) {
    const res = await page.goto(path);
    expect(res?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  }
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign-in, create an app and see its secret once, field errors', async ({ page }) => {
    await signInAsAdmin(page, false);
    const name = unique('No-JS app');
    await createApp(page, name, 'own-behalf', undefined, false);
    await expect(page.getByTestId('new-secret')).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('new-secret')).toHaveCount(0);
    // A destructive action asks first without JavaScript too.
    await confirm(page, 'Disable app', `Disable ${name}?`);
    await expect(page.locator('.heading .badge')).toHaveText('disabled');

    // An on-behalf-of-user app without a redirect URI.
    await page.goto('/admin/apps/new');
    await page.getByLabel('Name', { exact: true }).fill(unique('Other'));
    await page.getByRole('button', { name: 'Create app' }).click();
    await expect(page.getByRole('alert')).toContainText('Please correct');
    await expect(page.locator('.field-error', { hasText: 'needs at least one redirect URI' })).toBeVisible();

    // A duplicate name.
    await page.goto('/admin/apps/new');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
    await page.getByRole('button', { name: 'Create app' }).click();
    await expect(page.locator('.field-error', { hasText: 'already used' })).toBeVisible();
  });
});

import { test, expect, Page } from '@playwright/test';
import { hydrated, signInAsAdmin, unique } from './helpers';

// The scope catalogue (/admin/scopes): the platform's scopes and the organization's own
// APIs', searched, at desktop and phone size, with and without JavaScript.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

/** Registers an API with two scopes of a fresh resource name; returns that name. */
async function registerApi(page: Page) {
  const resource = `inv${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const name = unique('Invoices');
  await page.goto('/admin/apis');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Identifier').fill(`https://${resource}.example.com`);
  await page.getByLabel(/^Scopes/).fill(`${resource}:read Read your invoices\n${resource}:write Send invoices`);
  await page.getByRole('button', { name: 'Register API' }).click();
  await expect(page.getByRole('cell', { name: `https://${resource}.example.com` })).toBeVisible();
  return { resource, name };
}

async function search(page: Page, text: string) {
  await page.getByLabel('Find a scope').fill(text);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(text)}`));
}

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('the scope catalogue lists and searches every scope', async ({ page }) => {
      await signInAsAdmin(page);
      const api = await registerApi(page);

      // The app form's scope picker leads to it.
      await page.goto('/admin/apps/new');
      await hydrated(page);
      await expect(page.getByRole('link', { name: 'What do these scopes mean?' })).toHaveAttribute('href', '/admin/scopes');

      await page.goto('/admin/scopes');
      await hydrated(page);
      await expect(page.getByRole('heading', { level: 1, name: 'Scopes' })).toBeVisible();
      const rows = page.getByTestId('scope-row');
      await expect(rows.first()).toContainText('openid');
      await expect(rows.first()).toContainText('Sign-in (OpenID Connect)');

      // The API's scopes, found by its resource name.
      await search(page, api.resource);
      await expect(rows).toHaveCount(2);
      await expect(rows.nth(0)).toContainText(`${api.resource}:read`);
      await expect(rows.nth(0)).toContainText('Read your invoices');
      await expect(rows.nth(0)).toContainText(api.name);
      await expect(rows.nth(0)).toContainText('On its own behalf');
      await expect(rows.nth(1)).toContainText(`${api.resource}:write`);

      // A sign-in scope: for apps acting for a user only.
      await search(page, 'offline');
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText('offline_access');
      await expect(rows.first()).toContainText('On behalf of a user');
      await expect(rows.first()).not.toContainText('On its own behalf');

      await search(page, 'no-such-scope-anywhere');
      await expect(rows).toHaveCount(0);
      await expect(page.getByText('No scope matches')).toBeVisible();

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `/admin/scopes scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
    });
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });

  test('the catalogue searches with a plain form', async ({ page }) => {
    await signInAsAdmin(page, false);
    await page.goto('/admin/scopes');
    await search(page, 'audit');
    const rows = page.getByTestId('scope-row');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('read:audit');
    await expect(rows.first()).toContainText('Sensitive');
    await page.getByRole('link', { name: 'Show all' }).click();
    await expect(rows.first()).toContainText('openid');
  });
});

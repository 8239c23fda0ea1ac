import { test, expect } from '@playwright/test';
import { hydrated, signInAsAdmin, unique } from './helpers';

test('an admin registers an API, allows an app its scope, and the app gets a token for it', async ({ page }) => {
  await signInAsAdmin(page);
  const identifier = `https://orders-${Date.now().toString(36)}.example.com`;
  await page.goto('/admin/apis');
  await hydrated(page);
  // A bad identifier is refused next to the field.
  await page.getByLabel('Name', { exact: true }).fill(unique('Orders'));
  await page.getByLabel('Identifier').fill('orders');
  await page.getByLabel(/^Scopes/).fill('orders:read Read your orders');
  await page.getByRole('button', { name: 'Register API' }).click();
  await expect(page.getByText('must be an absolute URI', { exact: false })).toBeVisible();
  await page.getByLabel('Identifier').fill(identifier);
  await page.getByRole('button', { name: 'Register API' }).click();
  await expect(page.getByRole('cell', { name: identifier })).toBeVisible();

  // An own-behalf app allowed the API's scope.
  const name = unique('Order sync');
  await page.goto('/admin/apps/new');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
  await page.getByLabel('Scopes of your APIs').fill('orders:read');
  await page.getByRole('button', { name: 'Create app' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const clientId = (await page.getByTestId('client-id').textContent())!;
  const secret = (await page.getByTestId('new-secret').textContent())!;

  const res = await page.request.post('/oauth2/token', {
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    form: { grant_type: 'client_credentials', resource: identifier },
  });
  expect(res.status()).toBe(200);
  const tokens = await res.json();
  expect(tokens.scope).toBe('orders:read');
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
  expect(claims.aud).toBe(identifier);

  // The app page's chart counts the token just issued.
  await page.goto(`/admin/apps/${clientId}/activity`);
  await expect(page.getByTestId('token-totals')).toHaveText(/^1 issued, 0 refused/);
});

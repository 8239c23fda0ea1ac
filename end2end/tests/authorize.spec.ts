import { test, expect } from '@playwright/test';
import { ADMIN, confirm, signInAsAdmin, unique } from './helpers';
import { issuer, startClient } from './rp';

test('a web app sends the user to sign in and consent, gets a code and exchanges it for tokens', async ({ page, browser }) => {
  // The admin registers the app in the portal.
  await signInAsAdmin(page);
  const name = unique('Team dashboard');
  const port = 8765;
  await page.goto('/admin/apps/new');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs (one per line)').fill(`http://127.0.0.1:${port}/cb`);
  await page.locator('input[name="app[scopes][]"][value="openid"]').check();
  await page.locator('input[name="app[scopes][]"][value="email"]').check();
  await page.locator('input[name="app[scopes][]"][value="offline_access"]').check();
  await page.locator('input[name="app[grant_types][]"][value="refresh_token"]').check();
  await page.getByRole('button', { name: 'Create app' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const clientId = (await page.getByTestId('client-id').textContent())!;
  const secret = (await page.getByTestId('new-secret').textContent())!;
  const client = await startClient(port, clientId, secret, 'openid email offline_access');
  try {
    // A user, in a browser with no session, starts at the app.
    const context = await browser.newContext();
    const user = await context.newPage();
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user).toHaveURL(/\/login\?next=/);
    await user.getByLabel('E-mail').fill(ADMIN.email);
    await user.getByLabel('Password').fill(ADMIN.password);
    await user.getByRole('button', { name: 'Sign in', exact: true }).click();

    // Consent: the app's name, its organization, each scope in plain words.
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();
    await expect(user.getByText('Read your e-mail address')).toBeVisible();
    await expect(user.getByText('Sign you in (OpenID Connect)')).toBeVisible();
    await user.getByRole('button', { name: 'Allow' }).click();
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
    await expect(user.locator('#scope')).toHaveText('openid email offline_access');
    await user.goto(`http://127.0.0.1:${port}/refresh`);
    await expect(user.locator('#result')).toHaveText('Refreshed');

    // The consent is remembered: straight back with a code.
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);

    // Asked again, the user denies: the app hears access_denied.
    await user.goto(`http://127.0.0.1:${port}/start?prompt=consent`);
    await user.getByRole('button', { name: 'Cancel' }).click();
    await expect(user.locator('#result')).toHaveText('Error: access_denied');

    // The admin sees who authorized the app.
    await page.goto(`/admin/apps/${clientId}/authorizations`);
    await expect(page.getByRole('cell', { name: ADMIN.email })).toBeVisible();

    // The user finds the app under My authorized apps and revokes it; the app must ask again.
    await user.goto(`${issuer}/account/apps`);
    await expect(user.getByRole('cell', { name })).toBeVisible();
    await confirm(user, 'Revoke', `Revoke the access of ${name} to your account?`);
    await expect(user.getByText('You have not authorized any app.')).toBeVisible();
    // The app's refresh token no longer works.
    await user.goto(`http://127.0.0.1:${port}/refresh`);
    await expect(user.locator('#result')).toHaveText('Refresh error: invalid_grant');
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();

    // Authorized again, then the admin revokes it from the app's page: the app must ask again.
    await user.getByRole('button', { name: 'Allow' }).click();
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
    await page.goto(`/admin/apps/${clientId}/authorizations`);
    await expect(page.getByRole('cell', { name: ADMIN.email })).toBeVisible();
    await confirm(page.locator('table.list'), 'Revoke', `Revoke ${ADMIN.email}'s authorization?`);
    await expect(page.getByText('No one has authorized this app yet.')).toBeVisible();
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();
    await context.close();
  } finally {
    client.close();
  }
});

test('an unknown client gets an error page, never a redirect', async ({ page }) => {
  const res = await page.goto('/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=https%3A%2F%2Fevil.example.com%2F');
  expect(res!.status()).toBe(400);
  await expect(page.getByRole('alert')).toHaveText('No app is registered with this client_id.');
  expect(page.url()).toContain('/oauth2/authorize');
});

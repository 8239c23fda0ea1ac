import { test, expect, Page } from '@playwright/test';
import { ADMIN, signInAsAdmin, unique, hydrated } from './helpers';
import { startClient } from './rp';

// The Content Security Policy in a real browser: pages hydrate under their nonce with no
// violation, and a browser without JavaScript still gets through sign-in and consent to the
// app (form-action allows that request's redirect URI, and only it).

function violations(page: Page) {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

async function registerApp(page: Page, port: number) {
  await signInAsAdmin(page);
  const name = unique('CSP app');
  await page.goto('/admin/apps/new');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs (one per line)').fill(`http://127.0.0.1:${port}/cb`);
  await page.locator('input[name="app[scopes][]"][value="openid"]').check();
  await page.locator('input[name="app[scopes][]"][value="email"]').check();
  await page.getByRole('button', { name: 'Create app' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const clientId = (await page.getByTestId('client-id').textContent())!;
  const secret = (await page.getByTestId('new-secret').textContent())!;
  return { name, clientId, secret };
}

for (const [label, viewport] of [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const) {
  test(`pages hydrate under their nonce with no policy violation (${label})`, async ({ browser }) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const seen = violations(page);
    const res = await page.goto('/login');
    const csp = res!.headers()['content-security-policy'];
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=_-]+'/);
    expect(csp).toContain("form-action 'self'");
    await hydrated(page);
    await signInAsAdmin(page);
    await page.goto('/admin');
    await hydrated(page);
    expect(seen).toEqual([]);
    await context.close();
  });
}

test.describe('without JavaScript', () => {
  test('sign-in and consent go on to the app, and only to it', async ({ page, browser }) => {
    const port = 8766;
    const app = await registerApp(page, port);
    const client = await startClient(port, app.clientId, app.secret, 'openid email');
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const user = await context.newPage();
      const seen = violations(user);
      await user.goto(`http://127.0.0.1:${port}/start`);
      await expect(user).toHaveURL(/\/login\?next=/);
      const login = await user.request.get(user.url());
      const csp = login.headers()['content-security-policy'];
      expect(csp).toContain(`form-action 'self' http://127.0.0.1:${port}`);
      await user.getByLabel('E-mail').fill(ADMIN.email);
      await user.getByLabel('Password').fill(ADMIN.password);
      await user.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(user.getByRole('heading', { name: `${app.name} wants to access your account` })).toBeVisible();
      await user.getByRole('button', { name: 'Allow' }).click();
      await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
      expect(seen).toEqual([]);
      // Any other page allows its forms to post here alone.
      const other = await user.request.get('/account/apps');
      expect(other.headers()['content-security-policy']).toContain("form-action 'self';");
      await context.close();
    } finally {
      client.close();
    }
  });
});

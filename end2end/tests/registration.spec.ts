import { test, expect } from '@playwright/test';
import { check, confirm, fitsTheScreen, hydrated, newPage, signInAsAdmin, unique } from './helpers';
import { issuer } from './rp';

// Dynamic client registration (RFC 7591) from the portal's side: an admin issues an initial
// access token (its value shown once), an app registers itself with it, the portal marks
// the app as registered dynamically, and the admin revokes the token. Desktop and phone.

for (const size of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }]) {
  test(`an admin issues an initial access token and an app registers with it (${size.name})`, async ({ browser }) => {
    const { context, page } = await newPage(browser, size);
    try {
      await signInAsAdmin(page);
      await page.getByRole('link', { name: 'Dynamic registration' }).click();
      await expect(page.getByRole('heading', { name: 'Dynamic registration', level: 1 })).toBeVisible();
      await hydrated(page);
      const name = unique('Partner platform');
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Registrations allowed').fill('1');
      await page.locator('input[name="token[grant_types][]"][value="authorization_code"]').check();
      await page.locator('input[name="token[scopes][]"][value="openid"]').check();
      await page.locator('input[name="token[scopes][]"][value="email"]').check();
      await page.getByRole('button', { name: 'Issue token' }).click();
      const value = (await page.getByTestId('new-initial-token').textContent())!.trim();
      expect(value).toMatch(/^lki_/);
      await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('usable');
      await check(page, `registration page (${size.name})`);
      await fitsTheScreen(page, `registration page (${size.name})`);

      // The app registers itself.
      const res = await fetch(`${issuer}/oauth2/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${value}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: unique('Partner app'), redirect_uris: ['https://partner.example.com/cb'], scope: 'openid email' }),
      });
      expect(res.status).toBe(201);
      const registered = await res.json();

      // The portal shows it, marked; the token is spent (shown once: gone after a reload).
      await page.goto(`/admin/apps/${registered.client_id}`);
      await expect(page.getByTestId('dynamic-fact')).toContainText('Registered dynamically');
      await page.goto('/admin/registration');
      await expect(page.getByTestId('new-initial-token')).toHaveCount(0);
      await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('spent or expired');

      // Another token, revoked: no app can register with it.
      const second = unique('Revoked platform');
      await hydrated(page);
      await page.getByLabel('Name', { exact: true }).fill(second);
      await page.locator('input[name="token[grant_types][]"][value="authorization_code"]').check();
      await page.locator('input[name="token[scopes][]"][value="openid"]').check();
      await page.getByRole('button', { name: 'Issue token' }).click();
      const revokedValue = (await page.getByTestId('new-initial-token').textContent())!.trim();
      await confirm(page.getByRole('row', { name: new RegExp(second) }), 'Revoke', second);
      await expect(page.getByRole('row', { name: new RegExp(second) })).toContainText('revoked');
      const refused = await fetch(`${issuer}/oauth2/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${revokedValue}`, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://partner.example.com/cb'] }),
      });
      expect(refused.status).toBe(401);
    } finally {
      await context.close();
    }
  });
}

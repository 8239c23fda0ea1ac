import { test, expect, Locator, Page } from '@playwright/test';
import { ADMIN, addUser, confirm, createApp, hydrated, signInAsAdmin, unique } from './helpers';
import { issuer, startClient } from './rp';

// The portal's flows at desktop and phone size: the audit log read by names, consent that
// names the account and organization with a way to switch, lists that search and sort,
// forms that mark the wrong field and keep what was typed.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

/** The element lies entirely within the screen's width (after scrolling to it). */
async function onScreen(el: Locator, width: number) {
  await el.scrollIntoViewIfNeeded();
  await expect(el).toBeInViewport();
  const box = (await el.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(width);
}

let port = 8770;

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('the audit log tells what an app did, picked by name, without an id', async ({ page }) => {
      await signInAsAdmin(page);
      const name = unique('Nightly export');
      await createApp(page, name, 'own-behalf');
      const clientId = (await page.getByTestId('client-id').textContent())!.trim();
      const secret = (await page.getByTestId('new-secret').textContent())!.trim();
      const token = (s: string) => page.request.post('/oauth2/token', {
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${s}`).toString('base64')}` },
        form: { grant_type: 'client_credentials' },
      });
      expect((await token(secret)).status()).toBe(200);
      expect((await token('wrong secret')).status()).toBe(401);

      await page.goto('/admin/audit');
      await hydrated(page);
      await page.getByLabel('App', { exact: true }).selectOption({ label: name });
      await page.getByLabel('When').selectOption({ label: 'Last 24 hours' });
      const show = page.getByRole('button', { name: 'Show records' });
      await onScreen(show, size.width);
      await show.click();
      await expect(page).toHaveURL(new RegExp(`app=${clientId}`));
      const rows = page.locator('table.audit tbody tr');
      await expect(rows.filter({ hasText: 'Token issued' })).toHaveCount(1);
      const refused = rows.filter({ hasText: 'Token refused' });
      await expect(refused).toHaveCount(1);
      await expect(refused.locator('.badge')).toHaveText('Failed');
      // Who: the app by name, linked to its page; the time in words, UTC on hover.
      await expect(refused.getByRole('link', { name })).toHaveAttribute('href', `/admin/apps/${clientId}`);
      await expect(refused.locator('time')).toHaveAttribute('title', /UTC$/);
      // The drawer holds the whole record.
      await refused.getByText('Details').click();
      await expect(refused.locator('details.drawer dl')).toContainText('token.refused');
      await expect(refused.locator('details.drawer dl')).toContainText('invalid_client');

      // The app's Activity tab: the chart with its legend, and the way to every record.
      await page.goto(`/admin/apps/${clientId}/activity`);
      await expect(page.getByRole('link', { name: 'Activity' })).toHaveAttribute('aria-current', 'page');
      await expect(page.getByTestId('token-totals')).toHaveText(/^1 issued, 1 refused/);
      await expect(page.locator('.legend')).toContainText('Refused (below the line)');
      await expect(page.locator('svg.chart g.hour title').last()).toHaveText(/1 issued, 1 refused/);
      await page.getByRole('link', { name: /Every record of this app/ }).click();
      await expect(page.getByLabel('App', { exact: true }).locator('option:checked')).toHaveText(name);
    });

    test('consent names the account and the organization, and another account can be chosen', async ({ page, browser }) => {
      await signInAsAdmin(page);
      const other = { email: `${unique('ola').replace(/ /g, '-')}@example.com`, password: 'other user password 1' };
      await addUser(page, other.email, 'Ola Other', other.password);
      const name = unique('Acme Web Portal');
      const rp = port++;
      await page.goto('/admin/apps/new');
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Redirect URIs (one per line)').fill(`http://127.0.0.1:${rp}/cb`);
      await page.getByLabel('Website').fill('https://portal.acme.example');
      await page.locator('input[name="app[scopes][]"][value="openid"]').check();
      await page.locator('input[name="app[scopes][]"][value="email"]').check();
      await page.locator('input[name="app[scopes][]"][value="offline_access"]').check();
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('heading', { name })).toBeVisible();
      const clientId = (await page.getByTestId('client-id').textContent())!.trim();
      const secret = (await page.getByTestId('new-secret').textContent())!.trim();
      const org = (await page.locator('.topbar .org').textContent())!.trim();
      const client = await startClient(rp, clientId, secret, 'openid email offline_access');
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      try {
        const user = await context.newPage();
        await user.goto(`http://127.0.0.1:${rp}/start`);
        // The sign-in page says which app asks, and shows no portal navigation.
        await expect(user.getByTestId('app-asking')).toHaveText(name);
        await expect(user.locator('nav[aria-label="Main"]')).toHaveCount(0);
        await user.getByLabel('E-mail').fill(ADMIN.email);
        await user.getByLabel('Password').fill(ADMIN.password);
        await user.getByRole('button', { name: 'Sign in', exact: true }).click();

        await expect(user.getByTestId('consent-account')).toHaveText(ADMIN.email);
        await expect(user.getByTestId('consent-org')).toHaveText(org);
        await expect(user.locator('.consent .account')).toContainText(`${name} wants to access your ${ADMIN.email} account in the ${org} organization.`);
        await expect(user.getByRole('link', { name: /portal\.acme\.example/ })).toHaveAttribute('href', /^https:\/\/portal\.acme\.example\/?$/);
        await expect(user.locator('li.sensitive')).toContainText('Keep access while you are away');
        await expect(user.locator('nav[aria-label="Main"]')).toHaveCount(0);
        const allow = user.getByRole('button', { name: 'Allow' });
        const cancel = user.getByRole('button', { name: 'Cancel' });
        await onScreen(allow, size.width);
        await onScreen(cancel, size.width);
        // Allow and Cancel stand apart.
        const [a, c] = [(await allow.boundingBox())!, (await cancel.boundingBox())!];
        expect(Math.abs(a.x - c.x) + Math.abs(a.y - c.y)).toBeGreaterThan(100);

        // Not you? Sign in as someone else: the same request asks that account.
        await user.getByRole('button', { name: 'Sign in with another account' }).click();
        await expect(user.getByTestId('app-asking')).toHaveText(name);
        await user.getByLabel('E-mail').fill(other.email);
        await user.getByLabel('Password').fill(other.password);
        await user.getByRole('button', { name: 'Sign in', exact: true }).click();
        await expect(user.getByTestId('consent-account')).toHaveText(other.email);
        await user.getByRole('button', { name: 'Allow' }).click();
        await expect(user.locator('#result')).toHaveText(`Signed in as ${other.email}`);

        // My authorized apps: the Revoke button is on the screen, on a phone too.
        await user.goto(`${issuer}/account/apps`);
        await hydrated(user);
        const revoke = user.locator('summary', { hasText: 'Revoke…' }).first();
        await onScreen(revoke, size.width);
        await confirm(user, 'Revoke', name);
        await expect(user.getByText('You have not authorized any app.')).toBeVisible();
      } finally {
        await context.close();
        client.close();
      }
    });

    test('lists search and sort; a create form empties after success', async ({ page }) => {
      await signInAsAdmin(page);
      const tag = unique('zed').replace(/ /g, '');
      const [a, b] = [`a-${tag}@example.com`, `b-${tag}@example.com`];
      await addUser(page, a, 'Ann Zed', 'zed user password 1');
      // The form is empty again, ready for the next user.
      await expect(page.getByLabel('E-mail')).toHaveValue('');
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
      await addUser(page, b, 'Bea Zed', 'zed user password 2');

      await page.getByLabel('Find a user').fill(tag);
      await page.getByRole('button', { name: 'Search' }).click();
      await expect(page).toHaveURL(new RegExp(`q=${tag}`));
      const rows = page.locator('table.list tbody tr');
      await expect(rows).toHaveCount(2);
      // By e-mail first (the default, marked), then the other way round.
      await expect(page.locator('th[aria-sort="ascending"]')).toContainText('E-mail');
      await expect(rows.first()).toContainText(a);
      await page.getByRole('link', { name: /E-mail/ }).click();
      await expect(page.locator('th[aria-sort="descending"]')).toContainText('E-mail');
      await expect(rows.first()).toContainText(b);
      await expect(rows.first()).toContainText('never'); // not signed in yet
      // Each user's records are one click away.
      await rows.first().getByRole('link', { name: /Records/ }).click();
      await expect(page).toHaveURL(/\/admin\/audit\?user=/);
      await expect(page.locator('table.audit tbody tr').first()).toContainText('User added');
    });

    test('a wrong field is marked, with its message beside it, and what was typed stays', async ({ page }) => {
      await signInAsAdmin(page);
      await page.goto('/admin/apps/new');
      await hydrated(page);
      const name = unique('Fragmented');
      await page.getByLabel('Name', { exact: true }).fill(name);
      const uris = page.getByLabel('Redirect URIs (one per line)');
      await uris.fill('https://app.example/cb#token');
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('alert')).toContainText('Please correct');
      await expect(uris).toHaveAttribute('aria-invalid', 'true');
      await expect(page.locator('.field-error', { hasText: 'fragment' })).toBeVisible();
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
      await expect(page.getByLabel('Name', { exact: true })).not.toHaveAttribute('aria-invalid', 'true');
      await expect(uris).toHaveValue('https://app.example/cb#token');
    });
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a failed create keeps what was typed and marks the wrong field', async ({ page }) => {
    await signInAsAdmin(page, false);
    await page.goto('/admin/apps/new');
    const name = unique('No-JS fragment');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Redirect URIs (one per line)').fill('https://app.example/cb#token');
    await page.getByLabel('Website').fill('https://app.example');
    await page.getByRole('button', { name: 'Create app' }).click();
    await expect(page.locator('.field-error', { hasText: 'fragment' })).toBeVisible();
    await expect(page.getByLabel('Redirect URIs (one per line)')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
    await expect(page.getByLabel('Website')).toHaveValue('https://app.example');
    await expect(page.getByLabel('Redirect URIs (one per line)')).toHaveValue('https://app.example/cb#token');
  });

  test('sign-in and consent name the app, the account and the organization', async ({ page, browser }) => {
    await signInAsAdmin(page, false);
    const name = unique('No-JS portal');
    const rp = 8790;
    await createApp(page, name, 'on-behalf-of-user', `http://127.0.0.1:${rp}/cb`, false, ['openid', 'email']);
    const clientId = (await page.getByTestId('client-id').textContent())!.trim();
    const secret = (await page.getByTestId('new-secret').textContent())!.trim();
    const client = await startClient(rp, clientId, secret, 'openid email');
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const user = await context.newPage();
      await user.goto(`http://127.0.0.1:${rp}/start`);
      await expect(user.getByTestId('app-asking')).toHaveText(name);
      // A wrong password keeps the e-mail typed.
      await user.getByLabel('E-mail').fill(ADMIN.email);
      await user.getByLabel('Password').fill('not the password');
      await user.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(user.getByRole('alert')).toContainText('Wrong e-mail or password');
      await expect(user.getByLabel('E-mail')).toHaveValue(ADMIN.email);
      await expect(user.getByTestId('app-asking')).toHaveText(name);
      await user.getByLabel('Password').fill(ADMIN.password);
      await user.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(user.getByTestId('consent-account')).toHaveText(ADMIN.email);
      await expect(user.locator('nav[aria-label="Main"]')).toHaveCount(0);
      await user.getByRole('button', { name: 'Allow' }).click();
      await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
    } finally {
      await context.close();
      client.close();
    }
  });
});


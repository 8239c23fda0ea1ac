import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { ADMIN, confirm, hydrated, signInAsAdmin, unique } from './helpers';
import { issuer, startClient } from './rp';

// The command line against the server's own database (the same data directory).
function cli(...args: string[]) {
  const out = execFileSync(process.env.LATCHKEY_BIN ?? '../target/debug/latchkey', args, {
    env: { ...process.env, LATCHKEY_DATA_DIR: process.env.E2E_DATA_DIR ?? '../target/e2e-data' },
  });
  return JSON.parse(out.toString());
}

async function setPolicy(page: import('@playwright/test').Page, label: RegExp) {
  await page.goto('/admin/external-apps');
  await hydrated(page);
  await page.getByLabel(label).check();
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByLabel(label)).toBeChecked();
}

test('the restricted policy blocks an external app until an admin approves it with chosen scopes', async ({ page, browser }) => {
  // Another organization publishes an app open to everyone.
  const port = 8766;
  const vendor = cli('org', 'create', '--name', unique('Vendor'));
  const name = unique('Partner app');
  const app = cli('app', 'create', '--org', vendor.id, '--name', name, '--kind', 'on-behalf-of-user',
    '--grant-types', 'authorization_code', '--redirect-uri', `http://127.0.0.1:${port}/cb`,
    '--scopes', 'openid email', '--audience', 'everyone');
  const client = await startClient(port, app.client_id, app.client_secret);
  try {
    // Our admin restricts external apps.
    await signInAsAdmin(page);
    await setPolicy(page, /^Restricted/);

    // A user of our organization is stopped with a page that names the app and an approval link.
    const context = await browser.newContext();
    const user = await context.newPage();
    await user.goto(`http://127.0.0.1:${port}/start`);
    await user.getByLabel('E-mail').fill(ADMIN.email);
    await user.getByLabel('Password').fill(ADMIN.password);
    await user.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(user.getByRole('heading', { name: "You can't authorize this app" })).toBeVisible();
    await expect(user.getByRole('alert')).toContainText(name);
    const link = (await user.locator('a.approval-link').getAttribute('href'))!;
    expect(link).toBe(`${issuer}/admin/external-apps?client_id=${app.client_id}`);

    // The admin opens the link and approves the app with openid only.
    await page.goto(link);
    await hydrated(page);
    await expect(page.getByRole('heading', { name: `Approve ${name}` })).toBeVisible();
    await page.locator('input[name="scopes[]"][value="email"]').uncheck();
    await page.getByRole('button', { name: 'Approve with these scopes' }).click();
    await expect(page.locator('table.approved').getByRole('cell', { name, exact: true })).toBeVisible();
    await expect(page.locator('table.approved').getByRole('cell', { name: 'openid', exact: true })).toBeVisible();

    // Now the user can authorize it, within what the admin approved.
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();
    await expect(user.getByText('Read your e-mail address')).toHaveCount(0);
    await user.getByRole('button', { name: 'Allow' }).click();
    await expect(user.locator('#scope')).toHaveText('openid');

    // Removing the approval blocks it again.
    await confirm(page.locator('table.approved tr', { hasText: name }), 'Remove', `Remove the approval of ${name}?`);
    await expect(page.locator('table.approved').getByRole('cell', { name, exact: true })).toHaveCount(0);
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.getByRole('heading', { name: "You can't authorize this app" })).toBeVisible();
    await context.close();
  } finally {
    client.close();
    await setPolicy(page, /^Unrestricted/);
  }
});

test('the audit log filters, pages and exports', async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto('/admin/audit');
  await page.getByLabel('What').selectOption({ label: 'Sign-in' });
  await page.getByLabel('Outcome').selectOption({ label: 'Succeeded' });
  await page.getByRole('button', { name: 'Show records' }).click();
  await expect(page).toHaveURL(/action=login/);
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const action of await rows.locator('td:nth-child(3) .what').allTextContents()) expect(action).toBe('Sign-in');
  for (const outcome of await rows.locator('td:nth-child(4)').allTextContents()) expect(outcome).toBe('Succeeded');
  const href = (await page.getByRole('link', { name: 'CSV' }).getAttribute('href'))!;
  expect(href).toContain('action=login');
  const res = await page.request.get(href);
  expect(res.status()).toBe(200);
  const lines = (await res.text()).trim().split('\n');
  expect(lines[0]).toMatch(/^id,at,org_id,actor_type/);
  expect(lines.length).toBeGreaterThan(1);
});

import { test, expect } from '@playwright/test';
import http from 'node:http';
import crypto from 'node:crypto';
import { AddressInfo } from 'node:net';
import { ADMIN, signInAsAdmin, unique } from './helpers';

// A small relying party: /start sends the browser to Latchkey with PKCE, /cb takes the code
// back and exchanges it for tokens at the token endpoint, as any web app would.
const issuer = `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`;
const b64url = (b: Buffer) => b.toString('base64url');

function startClient(port: number, clientId: string, secret: string): Promise<http.Server> {
  const pending = new Map<string, string>();
  const redirectUri = `http://127.0.0.1:${port}/cb`;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, redirectUri);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${body}</body></html>`);
    };
    if (url.pathname === '/start') {
      const verifier = b64url(crypto.randomBytes(32));
      const state = b64url(crypto.randomBytes(16));
      pending.set(state, verifier);
      const auth = new URL('/oauth2/authorize', issuer);
      auth.search = new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid email',
        state, nonce: b64url(crypto.randomBytes(16)),
        code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
        ...(url.searchParams.get('prompt') ? { prompt: url.searchParams.get('prompt')! } : {}),
      }).toString();
      res.writeHead(302, { location: auth.toString() });
      return res.end();
    }
    if (url.pathname === '/cb') {
      const state = url.searchParams.get('state') ?? '';
      const verifier = pending.get(state);
      if (!verifier || url.searchParams.get('iss') !== issuer) return html('<h1 id="result">Bad state or issuer</h1>');
      pending.delete(state);
      if (url.searchParams.get('error')) return html(`<h1 id="result">Error: ${url.searchParams.get('error')}</h1>`);
      const answer = await fetch(`${issuer}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier }),
      });
      const tokens = await answer.json();
      if (!answer.ok) return html(`<h1 id="result">Token error: ${tokens.error}</h1>`);
      const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
      return html(`<h1 id="result">Signed in as ${claims.email}</h1><p id="scope">${tokens.scope}</p>`);
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

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
  await page.getByRole('button', { name: 'Create app' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const clientId = (await page.getByTestId('client-id').textContent())!;
  const secret = (await page.getByTestId('new-secret').textContent())!;
  const client = await startClient(port, clientId, secret);
  try {
    // A user, in a browser with no session, starts at the app.
    const context = await browser.newContext();
    const user = await context.newPage();
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user).toHaveURL(/\/login\?next=/);
    await user.getByLabel('E-mail').fill(ADMIN.email);
    await user.getByLabel('Password').fill(ADMIN.password);
    await user.getByRole('button', { name: 'Sign in' }).click();

    // Consent: the app's name, its organization, each scope in plain words.
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();
    await expect(user.getByText('Read your e-mail address')).toBeVisible();
    await expect(user.getByText('Sign you in (OpenID Connect)')).toBeVisible();
    await user.getByRole('button', { name: 'Allow' }).click();
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
    await expect(user.locator('#scope')).toHaveText('openid email');

    // The consent is remembered: straight back with a code.
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);

    // Asked again, the user denies: the app hears access_denied.
    await user.goto(`http://127.0.0.1:${port}/start?prompt=consent`);
    await user.getByRole('button', { name: 'Deny' }).click();
    await expect(user.locator('#result')).toHaveText('Error: access_denied');

    // The admin sees who authorized the app.
    await page.goto(`/admin/apps/${clientId}/authorizations`);
    await expect(page.getByRole('cell', { name: ADMIN.email })).toBeVisible();

    // The user finds the app under My authorized apps and revokes it; the app must ask again.
    await user.goto(`${issuer}/account/apps`);
    await expect(user.getByRole('cell', { name })).toBeVisible();
    await user.getByRole('button', { name: 'Revoke' }).click();
    await expect(user.getByText('You have not authorized any app.')).toBeVisible();
    await user.goto(`http://127.0.0.1:${port}/start`);
    await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();

    // Authorized again, then the admin revokes it from the app's page: the app must ask again.
    await user.getByRole('button', { name: 'Allow' }).click();
    await expect(user.locator('#result')).toHaveText(`Signed in as ${ADMIN.email}`);
    await page.goto(`/admin/apps/${clientId}/authorizations`);
    await expect(page.getByRole('cell', { name: ADMIN.email })).toBeVisible();
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await expect(page.getByText('No one has authorized this app.')).toBeVisible();
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

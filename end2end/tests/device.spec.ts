import { test, expect } from '@playwright/test';
import { ADMIN, check, fitsTheScreen, hydrated, newPage, signInAsAdmin, unique } from './helpers';
import { issuer } from './rp';

// The device authorization grant (RFC 8628) as a command-line tool lives it: the tool asks
// for a code and polls; the user opens the page the tool names, signs in, types the code,
// sees the consent screen and allows it; the tool's next poll gets its tokens. At desktop
// and phone size, with accessibility and width checks on the device page.

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function post(path: string, clientId: string, secret: string, form: Record<string, string>) {
  const res = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
}

for (const size of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }]) {
  test(`a device is connected by typing its code (${size.name})`, async ({ page, browser }) => {
    // The admin registers a device app: the device grant, no redirect URI.
    await signInAsAdmin(page);
    const name = unique('Acme CLI');
    await page.goto('/admin/apps/new');
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.locator('input[name="app[grant_types][]"][value="authorization_code"]').uncheck();
    await page.locator(`input[name="app[grant_types][]"][value="${DEVICE_GRANT}"]`).check();
    await page.locator('input[name="app[scopes][]"][value="openid"]').check();
    await page.locator('input[name="app[scopes][]"][value="email"]').check();
    await page.getByRole('button', { name: 'Create app' }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
    const clientId = (await page.getByTestId('client-id').textContent())!.trim();
    const secret = (await page.getByTestId('new-secret').textContent())!.trim();

    // The tool starts: a code to show and a page to name.
    const started = await post('/oauth2/device_authorization', clientId, secret, { scope: 'openid email' });
    expect(started.status).toBe(200);
    const { device_code: deviceCode, user_code: userCode, verification_uri: verificationUri } = started.body;
    expect(verificationUri).toBe(`${issuer}/device`);
    const poll = () => post('/oauth2/token', clientId, secret, { grant_type: DEVICE_GRANT, device_code: deviceCode });
    expect((await poll()).body.error).toBe('authorization_pending');

    // The user, on their own phone or laptop with no session, opens the page.
    const { context, page: user } = await newPage(browser, size);
    try {
      await user.goto('/device');
      await expect(user).toHaveURL(/\/login\?next=%2Fdevice|\/login\?next=\/device/);
      await user.getByLabel('E-mail').fill(ADMIN.email);
      await user.getByLabel('Password').fill(ADMIN.password);
      await user.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(user.getByRole('heading', { name: 'Connect a device' })).toBeVisible();
      await hydrated(user);
      await check(user, `device page (${size.name})`);
      await fitsTheScreen(user, `device page (${size.name})`);

      // A wrong code first: said plainly, nothing else happens.
      await user.getByLabel('Code').fill('BCDF-GHJK');
      await user.getByRole('button', { name: 'Continue' }).click();
      await expect(user.getByRole('alert')).toContainText('not valid');

      // The right one, typed in lower case: the consent screen names the app.
      await user.getByLabel('Code').fill(userCode.toLowerCase());
      await user.getByRole('button', { name: 'Continue' }).click();
      await expect(user.getByRole('heading', { name: `${name} wants to access your account` })).toBeVisible();
      await expect(user.getByText('Read your e-mail address')).toBeVisible();
      await fitsTheScreen(user, `device consent (${size.name})`);
      await user.getByRole('button', { name: 'Allow' }).click();
      await expect(user.getByTestId('device-result')).toContainText('Your device is connected');
      await check(user, `device result (${size.name})`);

      // The tool's next poll (after its interval) gets the tokens.
      // (It keeps to the interval, five seconds longer after each slow_down, RFC 8628 §3.5.)
      let interval: number = started.body.interval;
      let tokens = await poll();
      for (let i = 0; i < 3 && ['slow_down', 'authorization_pending'].includes(tokens.body.error); i++) {
        if (tokens.body.error === 'slow_down') interval += 5;
        await new Promise((r) => setTimeout(r, interval * 1000 + 300));
        tokens = await poll();
      }
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      expect(tokens.body.token_type).toBe('Bearer');
      expect(tokens.body.id_token).toBeTruthy();
      // Spent: the same device code again is refused.
      expect((await poll()).body.error).toBe('invalid_grant');

      // The link with the code filled in (verification_uri_complete) shows it, unsent.
      await user.goto(`/device?user_code=${encodeURIComponent(userCode)}`);
      await expect(user.getByLabel('Code')).toHaveValue(userCode);
    } finally {
      await context.close();
    }
  });
}

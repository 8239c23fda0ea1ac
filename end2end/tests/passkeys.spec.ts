import { test, expect, Page, Browser, CDPSession } from '@playwright/test';
import { LOCALHOST_PORT } from '../playwright.config';
import { ADMIN, addUser, check, fitsTheScreen, hydrated, newPage as pageAt, signIn, signOut, unique } from './helpers';

// Passkeys through Chrome's virtual authenticator (the DevTools protocol's WebAuthn domain),
// on the server whose issuer is `localhost` (browsers refuse an IP address as the RP id):
// a user adds one on the account security page, signs out, signs in with it alone, and
// with a password and the passkey as the second step; then removes it. At desktop and
// phone size.

const BASE = `http://localhost:${LOCALHOST_PORT}`;
test.use({ baseURL: BASE });

const sizes = [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const;

/** A platform authenticator that keeps discoverable credentials and verifies its user. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}



const newPage = (browser: Browser, viewport: { width: number; height: number }) => pageAt(browser, viewport, BASE);

for (const [label, viewport] of sizes) {
  test(`a user adds a passkey and signs in with it (${label})`, async ({ browser }) => {
    const { context: adminContext, page: admin } = await newPage(browser, viewport);
    await signIn(admin, ADMIN.email, ADMIN.password);
    await expect(admin.getByRole('heading', { name: 'Connected apps' })).toBeVisible();
    const user = `${unique('passkey').replace(/\s+/g, '.').toLowerCase()}@example.com`;
    await addUser(admin, user, 'Pat Passkey', 'a long enough password');
    await adminContext.close();

    const { context, page } = await newPage(browser, viewport);
    const { cdp, id } = await virtualAuthenticator(page);
    await signIn(page, user, 'a long enough password');
    await expect(page.getByRole('heading', { name: 'Welcome, Pat Passkey' })).toBeVisible();

    // Add one: the browser's prompt is the virtual authenticator; the first factor comes
    // with recovery codes, shown once.
    await page.goto('/account/security');
    await hydrated(page);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Passkeys' }) });
    await section.getByLabel('Name').fill('Test laptop');
    await section.getByRole('button', { name: 'Add a passkey' }).click();
    await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
    await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
    await page.getByRole('link', { name: 'I saved them, continue' }).click();
    await expect(page.getByTestId('passkeys')).toContainText('Test laptop');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].isResidentCredential).toBe(true);
    await check(page, `security page with a passkey ${label}`);
    await fitsTheScreen(page, `security page with a passkey ${label}`);
    await signOut(page);

    // Signed in with the passkey alone: no e-mail, no password.
    await hydrated(page);
    await check(page, `sign-in page with passkeys ${label}`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Pat Passkey' })).toBeVisible();
    await signOut(page);

    // The password is no longer enough: the passkey is the second step.
    await signIn(page, user, 'a long enough password');
    await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
    await hydrated(page);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Pat Passkey' })).toBeVisible();

    // Its last use shows, and it can be renamed and removed (a recent sign-in).
    await page.goto('/account/security');
    await hydrated(page);
    const rename = page.getByRole('textbox', { name: 'Name of passkey Test laptop' });
    await rename.fill('Old laptop');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.getByText('The passkey is renamed.')).toBeVisible();
    await expect(page.getByTestId('passkeys')).not.toContainText('Never');
    await page.getByTestId('passkeys').getByText('Remove…').click();
    await page.getByRole('button', { name: 'Yes, remove' }).click();
    await expect(page.getByText('The passkey is removed.')).toBeVisible();
    await expect(page.getByTestId('passkeys')).toHaveCount(0);
    await signOut(page);

    // The removed passkey no longer signs in, and the page says so.
    await hydrated(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'not registered here' })).toBeVisible();
    await context.close();
  });
}

import { test, expect, Page } from '@playwright/test';
import { ADMIN, addUser, hydrated, newPage, signIn, signInAsAdmin, signOut, unique } from './helpers';
import { MailSink, totp } from './mail';

// Sign-in beyond a password: an authenticator app with recovery codes, the organization's
// policy, a forgotten password and an invitation by mail. Each at desktop and phone size.

const sink = new MailSink();
test.beforeAll(async () => { await sink.start(); });
test.afterAll(async () => { await sink.stop(); });

const sizes = [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const;

function email(prefix: string) {
  return `${unique(prefix).replace(/\s+/g, '.').toLowerCase()}@example.com`;
}

/** Sets up an authenticator app on the account security page; returns its secret. */
async function setUpAuthenticator(page: Page) {
  await page.goto('/account/security');
  await hydrated(page);
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await expect(page.locator('.qr svg')).toBeVisible();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByRole('textbox', { name: 'Code' }).fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  const codes = await page.getByTestId('recovery-codes').locator('li').allTextContents();
  await page.getByRole('link', { name: 'I saved them, continue' }).click();
  return { secret, codes: codes.map((c) => c.trim()) };
}



for (const [label, viewport] of sizes) {
  test(`a user sets up an authenticator app and signs in with it (${label})`, async ({ browser }) => {
    const { context: adminContext, page: admin } = await newPage(browser, viewport);
    await signInAsAdmin(admin);
    const user = email('totp');
    await addUser(admin, user, 'Tess Totp', 'a long enough password');
    await adminContext.close();

    const { context, page } = await newPage(browser, viewport);
    await signIn(page, user, 'a long enough password');
    await expect(page.getByRole('heading', { name: 'Welcome, Tess Totp' })).toBeVisible();
    const { secret, codes } = await setUpAuthenticator(page);
    await expect(page.getByTestId('totp-on')).toContainText('10 recovery codes left');
    // The page lists where the user is signed in: this session, from here.
    await expect(page.getByTestId('sessions')).toContainText('(this one)');
    await expect(page.getByTestId('sessions')).toContainText('127.0.0.1');
    await signOut(page);

    // The password is not enough any more; a wrong code is refused, the next one works.
    await signIn(page, user, 'a long enough password');
    await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
    await hydrated(page);
    await page.getByRole('textbox', { name: 'Code' }).fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByText('is not the current code')).toBeVisible();
    await page.getByRole('textbox', { name: 'Code' }).fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Tess Totp' })).toBeVisible();
    await signOut(page);

    // A recovery code stands in for the app, without JavaScript too.
    const noJs = await browser.newContext({ viewport, javaScriptEnabled: false });
    const plain = await noJs.newPage();
    await signIn(plain, user, 'a long enough password', false);
    await expect(plain.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
    await plain.getByRole('textbox', { name: 'Code' }).fill(codes[0]);
    await plain.getByRole('button', { name: 'Verify' }).click();
    await expect(plain.getByRole('heading', { name: 'Welcome, Tess Totp' })).toBeVisible();
    await plain.goto('/account/security');
    await expect(plain.getByTestId('totp-on')).toContainText('9 recovery codes left');
    await noJs.close();
    await context.close();
  });

  test(`an admin requires two-step verification for admins (${label})`, async ({ browser }) => {
    const { context, page } = await newPage(browser, viewport);
    await signInAsAdmin(page);
    await page.goto('/admin/org');
    await hydrated(page);
    await page.getByRole('combobox', { name: 'Two-step verification' }).selectOption('admins');
    await page.getByRole('button', { name: 'Save sign-in policy' }).click();
    // The admin's own session, signed in with a password alone, ends.
    await page.goto('/admin/org');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

    // The next sign-in sets up an authenticator app before it goes on.
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { name: 'Set up two-step verification' })).toBeVisible();
    await expect(page.locator('.qr svg')).toBeVisible();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    await page.getByRole('textbox', { name: 'Code' }).fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
    await page.getByRole('link', { name: 'I saved them, continue' }).click();
    await expect(page.getByRole('heading', { name: 'Connected apps' })).toBeVisible();

    // Back to optional, and the app removed, for the other tests.
    await page.goto('/admin/org');
    await hydrated(page);
    await page.getByRole('combobox', { name: 'Two-step verification' }).selectOption('optional');
    await page.getByRole('button', { name: 'Save sign-in policy' }).click();
    await expect(page.getByText('Sign-in policy saved.')).toBeVisible();
    await page.goto('/account/security');
    await hydrated(page);
    await page.locator('summary', { hasText: 'Remove…' }).click();
    await page.locator('details.confirm[open] .confirm-panel').getByRole('button', { name: 'Yes, remove' }).click();
    await expect(page.getByText('The authenticator app is removed.')).toBeVisible();
    await context.close();
  });

  test(`a forgotten password comes back by mail (${label})`, async ({ browser }) => {
    const { context: adminContext, page: admin } = await newPage(browser, viewport);
    await signInAsAdmin(admin);
    const user = email('forgot');
    await addUser(admin, user, 'Fay Forgetful', 'the password she forgot');
    await adminContext.close();

    const { context, page } = await newPage(browser, viewport);
    await page.goto('/login');
    await hydrated(page);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('E-mail').fill(user);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByTestId('reset-sent')).toBeVisible();
    const link = await sink.linkTo(user, '/login/reset?token=');
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('New password').fill('a remembered new password');
    await page.getByRole('button', { name: 'Set the password' }).click();
    await expect(page.getByText('Your password is set.')).toBeVisible();
    await expect(page.getByLabel('E-mail')).toHaveValue(user);
    await page.getByLabel('Password').fill('a remembered new password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Fay Forgetful' })).toBeVisible();
    // The link worked once.
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'This link no longer works' })).toBeVisible();
    await context.close();
  });

  test(`an invited user chooses their own password (${label})`, async ({ browser }) => {
    const { context, page } = await newPage(browser, viewport);
    await signInAsAdmin(page);
    const user = email('invited');
    await page.goto('/admin/users');
    await hydrated(page);
    await page.getByLabel('E-mail').fill(user);
    await page.getByLabel('Name', { exact: true }).fill('Ivy Invited');
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect(page.getByText('User added.')).toBeVisible();
    const link = await sink.linkTo(user, '/login/reset?token=');

    const { context: theirs, page: invited } = await newPage(browser, viewport);
    await invited.goto(link);
    await expect(invited.getByRole('heading', { name: 'Welcome to Latchkey' })).toBeVisible();
    await hydrated(invited);
    await invited.getByLabel('New password').fill('my very own password');
    await invited.getByRole('button', { name: 'Set the password' }).click();
    await expect(invited.getByText('Your password is set.')).toBeVisible();
    await invited.getByLabel('Password').fill('my very own password');
    await invited.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(invited.getByRole('heading', { name: 'Welcome, Ivy Invited' })).toBeVisible();
    await invited.goto('/account/security');
    await expect(invited.getByTestId('email-verified')).toBeVisible();
    await theirs.close();
    await context.close();
  });
}

for (const [label, viewport] of sizes) {
  test(`single sign-on is found by the address's domain (${label})`, async ({ browser }) => {
    const { context, page } = await newPage(browser, viewport);
    await page.goto('/login');
    await hydrated(page);
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    await expect(page.getByRole('heading', { name: 'Single sign-on' })).toBeVisible();
    // No organization here signs this domain in through a provider: the page says so.
    await page.getByLabel('Work e-mail').fill('someone@no-provider.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('alert')).toContainText('Sign in with your password');
    // An admin sees where to set one up, with the redirect URI to register once saved.
    await signInAsAdmin(page);
    await page.goto('/admin/org');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Single sign-on' })).toBeVisible();
    await page.getByLabel('Name', { exact: true }).last().fill('Nowhere SSO');
    await page.getByLabel('Issuer').fill('http://127.0.0.1:9/nowhere');
    await page.getByLabel('Client id').fill('latchkey');
    await page.getByLabel('Client secret').fill('secret');
    await page.getByLabel('E-mail domains (one per line)').fill('nowhere.example');
    await page.getByRole('button', { name: 'Save identity provider' }).click();
    // Its discovery does not answer: refused, and said beside the field.
    await expect(page.getByText(/discovery at http:\/\/127.0.0.1:9\/nowhere failed/)).toBeVisible();
    await context.close();
  });
}

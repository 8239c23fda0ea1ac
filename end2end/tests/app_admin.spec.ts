import { test, expect, Page } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { addUser, confirm, createApp, createGroup, giveGroupRole, hydrated, signIn, signInAsAdmin, unique } from './helpers';

// What an organization's admins do around apps, at desktop and phone size: hand an app to
// another member, mark an app first-party so its users are not asked to consent, turn
// connected apps off for the whole organization (a blocked sign-in), and a group admin
// refused a sibling group.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
const CB = 'http://127.0.0.1:8765/cb';

/** Adds a member of the organization through the users page: their e-mail. */
async function addMember(page: Page, name: string, password: string) {
  const email = `${unique('m').replace(/ /g, '-')}@example.com`;
  await addUser(page, email, name, password);
  return email;
}

/** An authorization request of `clientId` for openid, to `CB`. */
function authorizeUrl(clientId: string) {
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: CB, scope: 'openid', state: 's1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  });
  return `/oauth2/authorize?${params}`;
}

/** Follows `url` to where the browser lands (the app, at `CB`). */
async function landing(page: Page, url: string) {
  await page.goto(url);
  return page.url();
}

// The app behind `CB`: answers every request, so the browser lands there.
let app: Server;
test.beforeAll(async () => {
  app = createServer((_, res) => res.end('the app'));
  await new Promise<void>((done) => app.listen(8765, '127.0.0.1', done));
});
test.afterAll(async () => {
  await new Promise((done) => app.close(done));
});

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });
    // Each test signs in twice and walks several pages.
    test.setTimeout(120_000);

    test('an app is handed to another member', async ({ page }) => {
      await signInAsAdmin(page);
      const member = await addMember(page, 'Olga Owner', 'owner password 123');
      const name = unique('Owned');
      await createApp(page, name, 'own-behalf', undefined, true, ['read:apps']);
      await expect(page.getByTestId('app-owner')).toContainText('admin@example.com');
      // Somebody who is not a member: refused beside the field, nothing changes.
      const field = page.getByLabel("New owner's e-mail");
      await field.fill('nobody@elsewhere.example');
      await page.getByRole('button', { name: 'Transfer ownership' }).click();
      await expect(field).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByTestId('app-owner')).toContainText('admin@example.com');
      await field.fill(member);
      await page.getByRole('button', { name: 'Transfer ownership' }).click();
      await expect(page.getByRole('status').getByText('Ownership transferred.')).toBeVisible();
      await expect(page.getByTestId('app-owner')).toContainText(member);
      await page.reload();
      await expect(page.getByTestId('app-owner')).toContainText(member);
    });

    test('a first-party app is not asked about; connected apps off blocks it', async ({ page, browser }) => {
      await signInAsAdmin(page);
      const name = unique('Intranet');
      await page.goto('/admin/apps/new');
      await hydrated(page);
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Redirect URIs (one per line)').fill(CB);
      await page.locator('input[name="app[scopes][]"][value="openid"]').check();
      await page.getByLabel("First-party app: don't ask this organization's users to consent").check();
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('heading', { name })).toBeVisible();
      await expect(page.getByTestId('consent-fact')).toContainText('not asked');
      const clientId = (await page.getByTestId('client-id').textContent())!.trim();

      // A member signs in and lands back at the app with a code, never on a consent page.
      const password = 'member password 123';
      const member = await addMember(page, 'Mia Member', password);
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      try {
        const user = await context.newPage();
        await user.goto(authorizeUrl(clientId));
        await expect(user.getByText(`to continue to ${name}`)).toBeVisible();
        await hydrated(user);
        await user.getByLabel('E-mail').fill(member);
        await user.getByLabel('Password').fill(password);
        await user.getByRole('button', { name: 'Sign in', exact: true }).click();
        await expect(user).toHaveURL(/^http:\/\/127\.0\.0\.1:8765\/cb\?code=/);

        // Connected apps off: the same request is refused back at the app, and on again works.
        await page.goto('/admin/org');
        await hydrated(page);
        await confirm(page, 'Turn connected apps off', /every token/);
        await expect(page.getByTestId('apps-switch')).toContainText('Connected apps are off');
        try {
          const refused = new URL(await landing(user, authorizeUrl(clientId)));
          expect(refused.searchParams.get('error')).toBe('access_denied');
        } finally {
          await page.goto('/admin/org');
          await hydrated(page);
          await page.getByRole('button', { name: 'Turn connected apps on' }).click();
          await expect(page.getByTestId('apps-switch')).toContainText('Connected apps are on');
        }
        const again = new URL(await landing(user, authorizeUrl(clientId)));
        expect(again.searchParams.get('code')).toBeTruthy();
      } finally {
        await context.close();
      }
    });

    test("a group admin is refused a sibling group and another group's records", async ({ page, browser }) => {
      await signInAsAdmin(page);
      const password = 'group admin password 2';
      const email = await addMember(page, 'Gus Group', password);
      const ids: string[] = [];
      for (const name of [unique('Mine'), unique('Sibling')]) ids.push(await createGroup(page, name));
      const [mine, sibling] = ids;
      await giveGroupRole(page, mine, email, 'admin');

      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      try {
        const ga = await context.newPage();
        await signIn(ga, email, password);
        await expect(ga.getByRole('heading', { name: 'Welcome, Gus Group' })).toBeVisible();
        await ga.goto(`/admin/groups/${sibling}`);
        await expect(ga.getByRole('heading', { name: 'Not allowed', level: 1 })).toBeVisible();
        // Their own group's page opens; the audit viewer is the organization's admins' and
        // auditors', so it links to no records.
        await ga.goto(`/admin/groups/${mine}`);
        await hydrated(ga);
        await expect(ga.getByRole('heading', { level: 1 })).toBeVisible();
        await expect(ga.getByRole('link', { name: 'Records of this group and below' })).toHaveCount(0);
      } finally {
        await context.close();
      }
      // The admin switches to the group from the header, then reads its records by name.
      if (size.name === 'phone') await page.locator('label.menu-button').click();
      await page.locator('#place-switch').selectOption(mine);
      await page.getByRole('button', { name: 'Go', exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`place=${mine}`));
      await page.goto(`/admin/groups/${mine}`);
      await hydrated(page);
      await page.getByRole('link', { name: 'Records of this group and below' }).click();
      await expect(page).toHaveURL(new RegExp(`business_group=${mine}`));
      const what = page.locator('td span.what');
      await expect(what.filter({ hasText: 'Role given in a business group' }).first()).toBeVisible();
      await page.goto('/admin/audit');
      await hydrated(page);
      await page.locator('#filter-business_group').selectOption(mine);
      await page.getByRole('button', { name: 'Show records' }).click();
      await expect(page).toHaveURL(new RegExp(`business_group=${mine}`));
      await expect(what.filter({ hasText: 'Role given in a business group' }).first()).toBeVisible();
      await expect(what.filter({ hasText: 'Business group created' })).toHaveCount(1);
    });
  });
}

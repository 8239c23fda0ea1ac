import { test, expect, Page } from '@playwright/test';
import { check, createGroup, fitsTheScreen, hydrated, openConsent, signInAsAdmin, unique } from './helpers';

// Every page, at desktop and phone size, passes axe-core's WCAG 2.2 A/AA rules with no
// serious or critical violation; at phone size nothing runs off the screen and the
// navigation folds into a menu that opens.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

const PORTAL = ['/admin/overview', '/admin', '/admin/apps/new', '/admin/users', '/admin/apis', '/admin/scopes', '/admin/org',
  '/admin/external-apps', '/admin/audit', '/admin/groups', '/account/apps', '/account/security',
  '/account/security?setup=1', '/no-such-page'];
const APP_TABS = ['', '/credentials', '/authorizations', '/activity'];

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('the sign-in pages', async ({ page }) => {
      for (const path of ['/login', '/login/forgot', '/login/forgot?sent=1', '/login/reset?token=gone', '/account/verify?token=x', '/login/sso']) {
        await page.goto(path);
        await hydrated(page);
        await check(page, `${path} ${size.name}`);
        await fitsTheScreen(page, path);
      }
    });

    test('every portal page', async ({ page }) => {
      await signInAsAdmin(page);
      for (const path of PORTAL) {
        await page.goto(path);
        if (!path.startsWith('/no-such')) await hydrated(page);
        await check(page, `${path} ${size.name}`);
        await fitsTheScreen(page, path);
      }
    });

    test("an app's tabs, the consent page and an open audit record", async ({ page }) => {
      await signInAsAdmin(page);
      const clientId = await openConsent(page, unique('Axe app'));
      await hydrated(page);
      await check(page, `consent ${size.name}`);
      await fitsTheScreen(page, 'consent');
      for (const tab of APP_TABS) {
        await page.goto(`/admin/apps/${clientId}${tab}`);
        await hydrated(page);
        await check(page, `app${tab || ' settings'} ${size.name}`);
        await fitsTheScreen(page, `app${tab}`);
      }
      await page.goto('/admin/audit');
      await hydrated(page);
      await page.locator('details.drawer summary').first().click();
      await check(page, `audit with a record open ${size.name}`);
      await fitsTheScreen(page, 'audit with a record open');
    });

    test("a business group's page and an own-behalf app's Scopes in context", async ({ page }) => {
      await signInAsAdmin(page);
      const id = await createGroup(page, unique('Axe group'));
      await check(page, `/admin/groups with a group ${size.name}`);
      await page.goto(`/admin/groups/${id}`);
      await hydrated(page);
      await check(page, `group page ${size.name}`);
      await fitsTheScreen(page, 'group page');
      const appName = unique('Axe job');
      await page.goto(`/admin/apps/new?place=${id}`);
      await hydrated(page);
      await page.getByLabel('Name', { exact: true }).fill(appName);
      await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
      await page.locator('input[name="app[scopes][]"][value="read:apps"]').check();
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('heading', { name: appName })).toBeVisible();
      await page.getByRole('link', { name: 'Scopes in context' }).click();
      await hydrated(page);
      await page.locator(`input[name="add[groups][]"][value="${id}"]`).check();
      await check(page, `app scopes in context ${size.name}`);
      await fitsTheScreen(page, 'app scopes in context');
    });

    test('a protocol error page', async ({ page }) => {
      await page.goto('/oauth2/authorize?client_id=nobody');
      await check(page, `protocol error ${size.name}`);
      await fitsTheScreen(page, 'protocol error');
    });

    test('the navigation marks one section and stays on the screen', async ({ page }) => {
      await signInAsAdmin(page);
      await page.goto('/admin/users');
      await hydrated(page);
      // The skip link is the first stop of the keyboard and leads to the main content.
      await page.keyboard.press('Tab');
      await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(/#main$/);
      await expect(page.locator('nav[aria-label="Main"] a[aria-current="page"]')).toHaveCount(1);
      if (size.width < 700) {
        const users = page.getByRole('link', { name: 'Users', exact: true });
        await expect(users).toBeHidden();
        await page.getByText('Menu', { exact: true }).click();
        await expect(users).toBeVisible();
        await expect(users).toBeInViewport();
        await expect(page.getByRole('button', { name: 'Sign out' })).toBeInViewport();
      } else {
        await expect(page.getByRole('link', { name: 'Users', exact: true })).toBeInViewport();
      }
      await expect(page.locator('main#main')).toHaveCount(1);
    });
  });
}

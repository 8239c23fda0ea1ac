import { test, expect, Locator, Page } from '@playwright/test';
import { hydrated, openConsent, signInAsAdmin, unique } from './helpers';

// The main pages at desktop and phone size, saved under end2end/screenshots/ by
// `make screenshots` (SCREENSHOTS=1); skipped in the ordinary run. Before each shot, the
// navigation (or, on a phone, its Menu) and the page's key button are on the screen.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

test.skip(!process.env.SCREENSHOTS, 'set SCREENSHOTS=1 (make screenshots) to save them');

async function onScreen(el: Locator, width: number) {
  await el.scrollIntoViewIfNeeded();
  await expect(el).toBeInViewport();
  const box = (await el.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(width);
}

async function shot(page: Page, name: string, size: { name: string; width: number }, key: string, nav = true) {
  if (nav) {
    const menu = size.width < 760
      ? page.getByText('Menu', { exact: true })
      : page.locator('nav[aria-label="Main"]');
    await onScreen(menu, size.width);
  }
  const control = page.getByRole('button', { name: key })
    .or(page.getByRole('link', { name: key }))
    .or(page.locator('summary', { hasText: key }));
  await onScreen(control.first(), size.width);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `screenshots/${name}-${size.name}.png`, fullPage: true });
}

for (const size of SIZES) {
  test(`main pages at ${size.name} size`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
    const page = await context.newPage();
    await page.goto('/login');
    await hydrated(page);
    await shot(page, 'sign-in', size, 'Sign in', false);
    await signInAsAdmin(page);
    const clientId = await openConsent(page, unique('Acme Web Portal'));
    await hydrated(page);
    await shot(page, 'consent', size, 'Allow', false);
    const pages: [string, string, string][] = [
      ['/admin/overview', 'overview', 'Show the numbers per day'],
      ['/admin', 'apps', 'Create app'],
      [`/admin/apps/${clientId}`, 'app-settings', 'Save changes'],
      [`/admin/apps/${clientId}/credentials`, 'app-credentials', 'Add a new secret'],
      [`/admin/apps/${clientId}/activity`, 'app-activity', 'Every record of this app in the audit log →'],
      ['/admin/users', 'users', 'Add user'],
      ['/admin/audit', 'audit', 'Show records'],
      ['/account/apps', 'my-apps', 'Sign out'],
    ];
    for (const [path, name, key] of pages) {
      await page.goto(path);
      await hydrated(page);
      if (key === 'Sign out' && size.width < 760) await page.getByText('Menu', { exact: true }).click();
      await shot(page, name, size, key);
    }
    await context.close();
  });
}

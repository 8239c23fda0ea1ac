import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import { hydrated, signInAsAdmin, unique } from './helpers';

// A new admin creates an app and copies a working `curl` from its page, on a laptop and on
// a phone: the command copied by the button, run in a shell, gets a token.
for (const size of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }]) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('create an app and copy a working curl from its page', async ({ page, context }) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      const started = Date.now();
      await signInAsAdmin(page);
      await page.goto('/admin/apps/new');
      await hydrated(page);
      const name = unique('Pipeline');
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
      await page.locator('input[name="app[scopes][]"][value="read:apps"]').check();
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('heading', { name })).toBeVisible();

      const secret = (await page.getByTestId('new-secret').textContent())?.trim() ?? '';
      expect(secret).toMatch(/^lks_/);
      const copy = page.getByRole('button', { name: /the curl command$/ });
      await copy.scrollIntoViewIfNeeded();
      await expect(copy).toBeInViewport();
      await copy.click();
      await expect(copy).toHaveText('Copied the curl command');
      const curl = await page.evaluate(() => navigator.clipboard.readText());
      expect(curl).toContain('grant_type=client_credentials');

      const answer = JSON.parse(execFileSync('sh', ['-c', curl], {
        env: { ...process.env, CLIENT_SECRET: secret },
      }).toString());
      expect(answer.access_token).toBeTruthy();
      expect(answer.scope).toBe('read:apps');
      expect(Date.now() - started).toBeLessThan(60_000);

      // The page with its Quick start passes the accessibility check and fits the screen.
      const result = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
        .analyze();
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      console.log(`axe app page ${size.name}: ${result.passes.length} rules passed, ${bad.length} serious or critical`);
      expect(bad.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    });
  });
}

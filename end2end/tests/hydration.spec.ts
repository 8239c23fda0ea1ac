import { test } from '@playwright/test';
import { hydrated, signInAsAdmin } from './helpers';

// Every portal page hydrates after a full load (the wasm takes over the server's HTML).
test('every portal page hydrates', async ({ page }) => {
  await signInAsAdmin(page);
  for (const path of ['/admin', '/admin/apps/new', '/admin/users', '/admin/apis', '/admin/org',
                      '/admin/external-apps', '/admin/audit', '/account/apps']) {
    await page.goto(path);
    await hydrated(page);
  }
});

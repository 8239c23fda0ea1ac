import { test, expect, Page } from '@playwright/test';
import { addUser, confirm, createGroup, giveGroupRole, groupId, hydrated, signIn, signInAsAdmin, unique } from './helpers';

// Business groups in the portal, at desktop and phone size: a group and a child with an
// environment, an own-behalf app living in the group given a scope in its Sandbox through
// the Add Scopes dialog, a group admin who sees only their subtree, and a child deleted.

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('groups, environments, an app in context and a group admin', async ({ page, browser }) => {
      await signInAsAdmin(page);
      const pay = unique('Payments');
      const child = unique('Cards');
      const sibling = unique('HR');
      const payId = await createGroup(page, pay);
      const childId = await createGroup(page, child, payId);
      await createGroup(page, sibling);
      // The child stands below its parent, indented.
      const childCell = page.locator('td.group-name.depth-2', { hasText: child });
      await expect(childCell).toBeVisible();

      // An environment of the child.
      await page.goto(`/admin/groups/${childId}`);
      await hydrated(page);
      await expect(page.getByRole('heading', { name: child, level: 1 })).toBeVisible();
      await page.getByLabel('Environment name').fill('Design');
      await page.getByRole('combobox', { name: 'Type', exact: true }).selectOption('design');
      await page.getByRole('button', { name: 'Add environment' }).click();
      await expect(page.getByRole('status').getByText('Environment added.')).toBeVisible();
      await expect(page.getByTestId('env-row').filter({ hasText: 'Design' })).toHaveCount(1);

      // A failed rename keeps the form and marks the field.
      await page.getByLabel('Name', { exact: true }).fill('   ');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await expect(page.locator('input[name="group_name"]')).toHaveAttribute('aria-invalid', 'true');

      // An own-behalf app that lives in the group.
      const appName = unique('Deployer');
      await page.goto(`/admin/apps/new?place=${payId}`);
      await hydrated(page);
      await page.getByLabel('Name', { exact: true }).fill(appName);
      await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
      await page.locator('input[name="app[scopes][]"][value="read:apps"]').check();
      await page.locator('input[name="app[scopes][]"][value="manage:apps"]').check();
      await expect(page.getByLabel('Where it lives')).toHaveValue(payId);
      await page.getByRole('button', { name: 'Create app' }).click();
      await expect(page.getByRole('heading', { name: appName })).toBeVisible();

      // The apps list filtered by the group shows it.
      await page.goto('/admin');
      await hydrated(page);
      await page.getByLabel('Business group or environment').selectOption(payId);
      await page.getByRole('button', { name: 'Show apps' }).click();
      await expect(page).toHaveURL(new RegExp(`place=${payId}`));
      await expect(page.getByRole('link', { name: appName })).toBeVisible();
      await page.getByRole('link', { name: appName }).click();

      // Scopes in context: assigned where it lives; Add Scopes in Sandbox only.
      await page.getByRole('link', { name: 'Scopes in context' }).click();
      await hydrated(page);
      const rows = page.getByTestId('assignment-row');
      await expect(rows).toHaveCount(2);
      await expect(rows.filter({ hasText: 'manage:apps' })).toContainText('Whole group');
      const dialog = page.locator('form.add-scopes-form');
      const step1 = dialog.locator('fieldset', { has: page.locator('legend', { hasText: '1. Scopes' }) });
      await step1.getByLabel('manage:apps').check();
      const step2 = dialog.locator('fieldset', { has: page.locator('legend', { hasText: '2. Business groups' }) });
      // Step 3 shows only the groups chosen in step 2.
      const paySteps = dialog.locator(`fieldset.env-step[data-group="${payId}"]`);
      await expect(paySteps).toBeHidden();
      await step2.getByLabel(pay).check();
      await expect(paySteps).toBeVisible();
      await paySteps.getByLabel('Only these environments:').check();
      await paySteps.getByLabel('Sandbox').check();
      await dialog.getByRole('button', { name: 'Add scopes' }).click();
      await expect(page.getByRole('status').getByText('Scopes added.')).toBeVisible();
      await expect(rows).toHaveCount(3);
      await expect(rows.filter({ hasText: 'manage:apps' }).filter({ hasText: 'Sandbox' })).toHaveCount(1);

      // A group admin: a member of the organization, admin of the group.
      const email = `${unique('ga').replace(/ /g, '-')}@example.com`;
      const password = 'group admin password 1';
      await addUser(page, email, 'Gia Group', password);
      await giveGroupRole(page, payId, email, 'admin');
      await expect(page.getByTestId('role-row').filter({ hasText: email })).toContainText('admin');

      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      try {
        const ga = await context.newPage();
        await signIn(ga, email, password);
        await expect(ga.getByRole('heading', { name: 'Welcome, Gia Group' })).toBeVisible();
        await ga.goto('/admin/groups');
        await hydrated(ga);
        const listed = ga.locator('table.groups');
        await expect(listed.getByRole('link', { name: pay, exact: true })).toBeVisible();
        await expect(listed.getByRole('link', { name: child, exact: true })).toBeVisible();
        await expect(listed.getByRole('link', { name: sibling, exact: true })).toHaveCount(0);
        await expect(ga.getByText(sibling)).toHaveCount(0);
        // Their own group stays where it is: it moves only with an admin above it.
        await ga.goto(`/admin/groups/${payId}`);
        await hydrated(ga);
        await expect(ga.getByLabel('Parent group')).toHaveCount(0);
        await expect(ga.locator('summary', { hasText: 'Delete group…' })).toHaveCount(0);
      } finally {
        await context.close();
      }

      // The child group is deleted, its environments named first.
      await page.goto(`/admin/groups/${childId}`);
      await hydrated(page);
      await confirm(page, 'Delete group', /Production, Sandbox, Design/);
      await expect(page).toHaveURL(/\/admin\/groups\?deleted=1$/);
      await expect(page.getByRole('status').getByText('Business group deleted.')).toBeVisible();
      await expect(page.locator('table.groups').getByRole('link', { name: child, exact: true })).toHaveCount(0);
    });

    test('without JavaScript: a group is created and an app gets scopes in context', async ({ browser }) => {
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: size.width, height: size.height } });
      try {
        const page = await context.newPage();
        await signIn(page, 'admin@example.com', 'e2e admin password 123', false);
        await expect(page.getByRole('heading', { name: 'Connected apps' })).toBeVisible();
        const name = unique('Plain group');
        await page.goto('/admin/groups');
        await page.getByLabel('Name', { exact: true }).fill(name);
        await page.getByRole('button', { name: 'Create group' }).click();
        await expect(page.locator('table.groups').getByRole('link', { name, exact: true })).toBeVisible();
        const id = await groupId(page, name);
        const appName = unique('Plain job');
        await page.goto(`/admin/apps/new?place=${id}`);
        await page.getByLabel('Name', { exact: true }).fill(appName);
        await page.locator('input[name="app[kind]"][value="own-behalf"]').check();
        await page.locator('input[name="app[scopes][]"][value="read:apps"]').check();
        await page.getByRole('button', { name: 'Create app' }).click();
        await expect(page.getByRole('heading', { name: appName })).toBeVisible();
        await page.getByRole('link', { name: 'Scopes in context' }).click();
        // A step left out is named, and nothing changes.
        await page.getByRole('button', { name: 'Add scopes' }).click();
        await expect(page.locator('ul.errors')).toContainText('pick at least one scope');
        const dialog = page.locator('form.add-scopes-form');
        await dialog.getByLabel('read:apps').check();
        await dialog.locator(`input[name="add[groups][]"][value="${id}"]`).check();
        const step = dialog.locator(`fieldset.env-step[data-group="${id}"]`);
        await step.getByLabel('Only these environments:').check();
        await step.getByLabel('Sandbox').check();
        await dialog.getByRole('button', { name: 'Add scopes' }).click();
        await expect(page.getByTestId('assignment-row').filter({ hasText: 'Sandbox' })).toHaveCount(1);
      } finally {
        await context.close();
      }
    });
  });
}

import { Browser, expect, Locator, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { ADMIN } from '../playwright.config';

export { ADMIN };

/** Waits until the page's wasm has loaded and hydrated it. A page not hydrated within
 *  20 s is reloaded once, as a user would, and reported on the console (seen once in CI,
 *  on /admin/apis, not reproduced in 120 loads since). */
export async function hydrated(page: Page) {
  const marker = page.locator('body[data-hydrated]');
  try {
    await marker.waitFor({ state: 'attached', timeout: 20_000 });
  } catch {
    console.warn(`not hydrated after 20 s, reloading once: ${page.url()}`);
    await page.reload();
    await marker.waitFor({ state: 'attached' });
  }
}

/** Signs in; with `js`, waits for hydration first so the form posts in the background. */
export async function signIn(page: Page, email: string, password: string, js = true) {
  await page.goto('/login');
  if (js) await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function signInAsAdmin(page: Page, js = true) {
  await signIn(page, ADMIN.email, ADMIN.password, js);
  await expect(page.getByRole('heading', { name: 'Connected apps' })).toBeVisible();
}

export function unique(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Creates an app through the form and waits for its page. */
export async function createApp(
  page: Page,
  name: string,
  kind: 'on-behalf-of-user' | 'own-behalf',
  redirect?: string,
  js = true,
  scopes: string[] = [],
) {
  await page.goto('/admin/apps/new');
  if (js) await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.locator(`input[name="app[kind]"][value="${kind}"]`).check();
  if (kind === 'on-behalf-of-user' && redirect) {
    await page.getByLabel('Redirect URIs (one per line)').fill(redirect);
  }
  for (const scope of scopes) await page.locator(`input[name="app[scopes][]"][value="${scope}"]`).check();
  await page.getByRole('button', { name: 'Create app' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

/** A destructive action: opens its confirmation (which must name what will end, when
 *  `names` is given) and confirms it. */
export async function confirm(scope: Page | Locator, label: string, names?: string | RegExp) {
  const summary = scope.locator('summary', { hasText: `${label}…` }).first();
  await summary.click();
  const panel = scope.locator('details.confirm[open] .confirm-panel').first();
  if (names) await expect(panel).toContainText(names);
  await panel.getByRole('button', { name: `Yes, ${label.toLowerCase()}` }).click();
}

/** Creates an app acting for users (redirect URI `http://127.0.0.1:9/cb`) and opens its
 *  consent page as the signed-in admin: the page a user sees before allowing it. */
export async function openConsent(page: Page, name: string) {
  await createApp(page, name, 'on-behalf-of-user', 'http://127.0.0.1:9/cb', true, ['openid']);
  const clientId = (await page.getByTestId('client-id').textContent())!.trim();
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:9/cb',
    scope: 'openid', state: 'screens',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  });
  await page.goto(`/oauth2/authorize?${params}`);
  await expect(page.getByTestId('consent-account')).toBeVisible();
  return clientId;
}

/** Adds a user to the organization through the users page. */
export async function addUser(page: Page, email: string, name: string, password: string) {
  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Initial password (at least 12 characters)').fill(password);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText('User added.')).toBeVisible();
}

/** The id of a group listed on /admin/groups, from its link. */
export async function groupId(page: Page, name: string) {
  const href = await page.locator('table.groups').getByRole('link', { name, exact: true }).getAttribute('href');
  return href!.split('/').pop()!;
}

/** Creates a business group (below `parent`, when given) and stays on the groups page: its id. */
export async function createGroup(page: Page, name: string, parent?: string) {
  await page.goto('/admin/groups');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (parent) await page.getByLabel('Parent group').selectOption(parent);
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('status').getByText('Business group created.')).toBeVisible();
  await expect(page.locator('table.groups').getByRole('link', { name, exact: true })).toBeVisible();
  return groupId(page, name);
}

/** Gives the user with `email` a role in the whole group, from the group's page. */
export async function giveGroupRole(page: Page, group: string, email: string, role: string) {
  await page.goto(`/admin/groups/${group}`);
  await hydrated(page);
  await page.getByLabel('User (name or e-mail)').fill(email);
  await page.getByLabel('Where').selectOption('');
  await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption(role);
  await page.getByRole('button', { name: 'Give role' }).click();
  await expect(page.getByRole('status').getByText('Role given.')).toBeVisible();
}

/** axe-core's WCAG 2.2 A/AA rules: no serious or critical violation. */
export async function check(page: Page, label: string) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.violations.length - bad.length;
  console.log(`axe ${label}: ${result.passes.length} rules passed, ${bad.length} serious or critical, ${minor} minor`);
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`),
    label,
  ).toEqual([]);
}

/** Nothing wider than the screen: no sideways scrolling of the whole page. */
export async function fitsTheScreen(page: Page, label: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${label} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
}

/** Signs out from the header (on a phone, behind "Menu"). */
export async function signOut(page: Page) {
  const menu = page.locator('label.menu-button');
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

/** A page in a context of its own (its own cookies), at `viewport`. */
export async function newPage(browser: Browser, viewport: { width: number; height: number }, baseURL?: string) {
  const context = await browser.newContext(baseURL ? { viewport, baseURL } : { viewport });
  return { context, page: await context.newPage() };
}

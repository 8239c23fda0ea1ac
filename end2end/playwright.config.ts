import { defineConfig } from '@playwright/test';

// Runs against the real binary (built by `cargo leptos build`) on a fresh SQLite database,
// in Debian's chromium; Playwright never downloads a browser.
const port = Number(process.env.E2E_PORT ?? 3100);
const base = `http://127.0.0.1:${port}`;
const bin = process.env.LATCHKEY_BIN ?? '../target/debug/latchkey';
const data = process.env.E2E_DATA_DIR ?? '../target/e2e-data';

export const ADMIN = { email: 'admin@example.com', password: 'e2e admin password 123' };
/** A second server whose issuer is at a domain name (`localhost`): browsers refuse an IP
 *  address as a WebAuthn RP id, so the passkey tests run there. */
export const LOCALHOST_PORT = port + 2;

const server = (p: number, issuer: string, dir: string) => ({
  command: `rm -rf ${dir} && ${bin} serve`,
  url: `http://127.0.0.1:${p}/readyz`,
  timeout: 60_000,
  reuseExistingServer: false,
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
  env: {
    LATCHKEY_DATA_DIR: dir,
    LATCHKEY_BIND: `127.0.0.1:${p}`,
    LATCHKEY_ISSUER: issuer,
    LATCHKEY_ADMIN_EMAIL: ADMIN.email,
    LATCHKEY_ADMIN_PASSWORD: ADMIN.password,
    LATCHKEY_SITE_ROOT: process.env.LATCHKEY_SITE_ROOT ?? '../target/site',
    // The sign-in tests' mail sink (tests/mail.ts); mail sent while none listens is lost.
    LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2526',
  },
});

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: base,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    },
  },
  webServer: [
    server(port, base, data),
    server(LOCALHOST_PORT, `http://localhost:${LOCALHOST_PORT}`, `${data}-localhost`),
  ],
});

import { defineConfig } from '@playwright/test';

// Runs against the real binary (built by `cargo leptos build`) on a fresh SQLite database,
// in Debian's chromium; Playwright never downloads a browser.
const port = Number(process.env.E2E_PORT ?? 3100);
const base = `http://127.0.0.1:${port}`;
const bin = process.env.LATCHKEY_BIN ?? '../target/debug/latchkey';
const data = process.env.E2E_DATA_DIR ?? '../target/e2e-data';

export const ADMIN = { email: 'admin@example.com', password: 'e2e admin password 123' };

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
  webServer: {
    command: `rm -rf ${data} && ${bin} serve`,
    url: `${base}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      LATCHKEY_DATA_DIR: data,
      LATCHKEY_BIND: `127.0.0.1:${port}`,
      LATCHKEY_ISSUER: base,
      LATCHKEY_ADMIN_EMAIL: ADMIN.email,
      LATCHKEY_ADMIN_PASSWORD: ADMIN.password,
      LATCHKEY_SITE_ROOT: process.env.LATCHKEY_SITE_ROOT ?? '../target/site',
      // The sign-in tests' mail sink (tests/mail.ts); mail sent while none listens is lost.
      LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2526',
    },
  },
});

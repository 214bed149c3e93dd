// Playwright drives Debian's Chromium (/usr/bin/chromium): Playwright's own browser download
// is not reachable from these machines. The server under test is the release build that
// `scripts/test.sh` just made (the one `scripts/run.sh` serves, with the same browser
// bundle), on its own ports and a fresh data dir.
import { defineConfig } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every spec takes `test` from tests/fixtures.ts, which fails a test on any page error or
// Rust panic; a spec that takes it from Playwright directly would not, so it is refused here.
for (const file of readdirSync(join(__dirname, 'tests'))) {
  if (!file.endsWith('.spec.ts')) continue;
  const source = readFileSync(join(__dirname, 'tests', file), 'utf8');
  if (/import\s*{[^}]*\btest\b[^}]*}\s*from\s*'@playwright\/test'/.test(source) || !source.includes("from './fixtures'")) {
    throw new Error(`end2end/tests/${file} must import { test } from './fixtures' (page errors fail a test there)`);
  }
}

export const CONSOLE_PORT = Number(process.env.E2E_CONSOLE_PORT ?? 3100);
export const GATEWAY_PORT = Number(process.env.E2E_GATEWAY_PORT ?? 8180);
export const GATEWAY_TLS_PORT = Number(process.env.E2E_GATEWAY_TLS_PORT ?? 8543);
export const ADMIN_PASSWORD = 'e2e-admin-password';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${CONSOLE_PORT}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: './serve.sh',
    url: `http://127.0.0.1:${CONSOLE_PORT}/login`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      GANTRY_CONSOLE_ADDR: `127.0.0.1:${CONSOLE_PORT}`,
      GANTRY_GATEWAY_ADDR: `127.0.0.1:${GATEWAY_PORT}`,
      GANTRY_GATEWAY_TLS_ADDR: `127.0.0.1:${GATEWAY_TLS_PORT}`,
      GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // Charts see traffic half a second after it was answered.
      GANTRY_STATS_FLUSH_MS: '500',
    },
  },
});

/**
 * End-to-end tests against a running SecuLite (nginx serving dist/ and proxying /api/ to the
 * real backend). backend/tests/test_e2e_browser.py starts that stack and runs these tests with
 * SECULITE_E2E_BASE_URL set. The browser is Debian's chromium (never a downloaded one); each
 * launch gets a fresh temporary profile from Playwright.
 */
import { defineConfig } from '@playwright/test'

const baseURL = process.env.SECULITE_E2E_BASE_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  testDir: './e2e',
  outputDir: process.env.SECULITE_E2E_OUTPUT_DIR ?? './e2e/test-results',
  // One browser, tests in order: they share one stack and its single scan worker.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 180_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'off',
    video: 'off',
    acceptDownloads: true,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.SECULITE_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
})

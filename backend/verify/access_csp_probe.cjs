// The Content-Security-Policy in a real browser (verify/test_access.py): Debian's chromium,
// driven by the Playwright installed in frontend/node_modules, opens pages served by nginx.
//
//   node access_csp_probe.cjs BASE_URL PROBE_PATH   -> JSON on stdout
//
// PROBE_PATH is a page with an inline <script>, an inline event handler, a javascript: link,
// a data: script and an eval() in its same-origin script (the control that must run). The SPA's
// own entry page (/) is opened too: it must render with no violation at all.
'use strict'

// NODE_PATH names frontend/node_modules (the test sets it).
const { chromium } = require('playwright-core')

async function visit(context, url, after) {
  const page = await context.newPage()
  const console_ = []
  page.on('console', (msg) => console_.push(msg.text()))
  const response = await page.goto(url, { waitUntil: 'load' })
  const status = response ? response.status() : 0
  const csp = response ? (await response.allHeaders())['content-security-policy'] || '' : ''
  if (after) await after(page)
  await page.waitForTimeout(500)
  const state = await page.evaluate(() => ({
    flags: window.__probe || null,
    violations: window.__violations || [],
    appChildren: document.querySelector('#app') ? document.querySelector('#app').children.length : -1,
    title: document.title,
  }))
  await page.close()
  return {
    status,
    csp,
    console: console_,
    ...state,
  }
}

async function main() {
  const [base, probePath] = process.argv.slice(2)
  const browser = await chromium.launch({
    executablePath: process.env.SECULITE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true })
    // The SPA first: it must render under its CSP, with no violation.
    const spa = await visit(context, base + '/', async (page) => {
      await page.waitForFunction(() => document.querySelector('#app')?.children.length > 0, null, {
        timeout: 30000,
      })
    })
    const probe = await visit(context, base + probePath, async (page) => {
      await page.click('#js-link')
    })
    process.stdout.write(JSON.stringify({ spa, probe }) + '\n')
  } finally {
    await browser.close()
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n')
  process.exit(1)
})

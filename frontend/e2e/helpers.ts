/**
 * Shared steps of the end-to-end tests: a test fixture that fails on uncaught page errors and
 * Content-Security-Policy violations, screenshots into e2e/screenshots/, registration and
 * sign-in through the UI, and a CSV reader for the exports.
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { test as base, expect, type Page } from '@playwright/test'

export const SCREENSHOT_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url))
mkdirSync(SCREENSHOT_DIR, { recursive: true })

export const PASSWORD = 'E2e-Browser-Passw0rd!'

/** A name no earlier run used (the suite may run twice against one database). */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`
}

/** `page`, watched: uncaught exceptions and CSP violations fail the test that caused them. */
export const test = base.extend<{ problems: string[] }>({
  problems: [
    async ({ page }, use) => {
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      page.on('console', (message) => {
        const text = message.text()
        if (message.type() === 'error' && /Content.Security.Policy/i.test(text)) {
          problems.push(`CSP: ${text}`)
        }
      })
      await use(problems)
      expect(problems, 'errors in the page').toEqual([])
    },
    { auto: true },
  ],
})

export { expect }

/** A screenshot of a main screen, kept as a CI artifact: the whole page, or only the first
 * screenful for long lists. */
export async function shot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  // Fonts settle before the picture is taken.
  await page.evaluate(() => document.fonts.ready)
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage })
}

export async function register(page: Page, username: string): Promise<void> {
  await page.goto('/register')
  await page.getByTestId('register-username').fill(username)
  await page.getByTestId('register-email').fill(`${username}@example.org`)
  await page.getByTestId('register-password').fill(PASSWORD)
  await page.getByTestId('register-password_confirm').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible()
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/sign-in')
  await page.getByTestId('sign-in-username').fill(username)
  await page.getByTestId('sign-in-password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible()
}

/** A project through the Projects screen; returns its id (from the URL it opens). */
export async function createProject(page: Page, name: string): Promise<number> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Projects' })
    .click()
  await page.getByTestId('project-name').fill(name)
  await page.getByTestId('project-create').click()
  await expect(page.getByTestId('project-heading')).toHaveText(name)
  const id = Number(/\/projects\/(\d+)/.exec(page.url())?.[1])
  expect(id).toBeGreaterThan(0)
  return id
}

/** RFC 4180 CSV (quoted cells may hold commas, quotes and line breaks) as header-keyed rows. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i += 1
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length) {
    row.push(cell)
    rows.push(row)
  }
  const [header, ...body] = rows
  if (!header) return []
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])))
}

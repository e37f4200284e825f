/**
 * An auditor reads everything and is offered no control that changes anything.
 *
 * The auditor is made through the API before the suite (backend/tests/test_e2e_browser.py):
 * an owner registers, creates a project, imports a report and a scan configuration, and
 * invites the auditor's e-mail with the auditor role; the auditor registers and accepts the
 * invitation with the token from the e-mail (the stack's console e-mail backend writes it to
 * the worker's log). The suite gets the names and ids through SECULITE_E2E_AUDITOR_*.
 */
import type { Page } from '@playwright/test'

import { expect, shot, signIn, test } from './helpers'

const USER = process.env.SECULITE_E2E_AUDITOR_USER ?? ''
const PASSWORD = process.env.SECULITE_E2E_AUDITOR_PASSWORD ?? ''
const PROJECT = process.env.SECULITE_E2E_AUDITOR_PROJECT ?? ''
const FINDING = process.env.SECULITE_E2E_AUDITOR_FINDING ?? ''
const SCAN = process.env.SECULITE_E2E_AUDITOR_SCAN ?? ''

/** Words of every control that creates, changes, deletes or runs something. */
const EDIT_WORDS =
  '\\b(add|new|edit|delete|remove|save|launch|rescan|cancel|import|clone|invite|mark as|confirm|reopen|comment|rotate|leave|assign)\\b'

/** Buttons, links and checkboxes of the page that would change something; the filter form
 * (role=search) only changes what is shown and is left out. */
async function editControls(page: Page): Promise<string[]> {
  return page.getByRole('main').evaluateAll((mains, words) => {
    const pattern = new RegExp(words, 'i')
    const found: string[] = []
    for (const main of mains) {
      for (const el of main.querySelectorAll('button, a, input, select, textarea')) {
        if (el.closest('[role="search"]') || el.closest('nav')) continue
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim()
        const isField = el.matches('input:not([type="search"]), select, textarea')
        if (isField || pattern.test(name)) found.push(`${el.tagName.toLowerCase()}: ${name}`)
      }
    }
    return found
  }, EDIT_WORDS)
}

async function expectNoEditControls(page: Page, where: string) {
  expect(await editControls(page), `edit controls on the ${where} screen`).toEqual([])
}

test('an auditor sees no edit controls', async ({ page }) => {
  test.skip(!USER || !PROJECT || !FINDING, 'SECULITE_E2E_AUDITOR_* are not set')
  await signIn(page, USER, PASSWORD)

  await page.goto(`/projects/${PROJECT}/targets`)
  await expect(page.getByTestId('project-heading')).toBeVisible()
  await expect(page.getByText('read-only for you')).toBeVisible()
  await expect(page.getByTestId('target-list')).toBeVisible()
  await expectNoEditControls(page, 'targets')
  await shot(page, 'auditor-project')

  await page.getByTestId('tab-configurations').click()
  await expect(page.getByTestId('configuration-list')).toBeVisible()
  await expectNoEditControls(page, 'configurations')

  await page.getByTestId('tab-findings').click()
  const rows = page.getByTestId('finding-list').locator('tbody tr[data-severity]')
  await expect(rows.first()).toBeVisible()
  await expect(page.getByTestId('select-all')).toHaveCount(0)
  // Exports are reading, and stay.
  await expect(page.getByTestId('export-csv')).toBeVisible()
  await expectNoEditControls(page, 'findings')
  await shot(page, 'auditor-findings')

  await page.goto(`/findings/${FINDING}`)
  await expect(page.getByTestId('finding-heading')).toBeVisible()
  await expect(page.getByTestId('finding-readonly')).toBeVisible()
  await expect(page.getByTestId('triage')).toHaveCount(0)
  await expect(page.getByTestId('comment-body')).toHaveCount(0)
  await expectNoEditControls(page, 'finding')
  await shot(page, 'auditor-finding')

  if (SCAN) {
    await page.goto(`/scans/${SCAN}`)
    await expect(page.getByTestId('scan-heading')).toBeVisible()
    await expect(page.getByTestId('scan-summary')).toBeVisible()
    await expectNoEditControls(page, 'scan')
  }
})

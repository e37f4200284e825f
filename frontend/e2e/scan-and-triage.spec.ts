/**
 * The main path of a new user: register, create a project, add a local-path target (the
 * vulnerable sample), configure bandit, semgrep and detect-secrets, launch and watch the scan,
 * triage a finding as a false positive, rescan and see the triage kept, filter by severity
 * through the URL and export the filtered findings as CSV.
 */
import { readFileSync } from 'node:fs'

import type { Page } from '@playwright/test'

import { createProject, expect, parseCsv, register, shot, test, unique } from './helpers'

const SAMPLE = process.env.SECULITE_E2E_SAMPLE_PATH ?? ''
const TOOLS = ['bandit', 'semgrep', 'detect-secrets'] as const
const SCAN_TIMEOUT = 150_000

/** Wait on the scan page until the scan is finished; it must have completed. */
async function waitForScan(page: Page, screenshot?: string): Promise<number> {
  await page.waitForURL(/\/scans\/\d+$/)
  const id = Number(/\/scans\/(\d+)/.exec(page.url())?.[1])
  expect(id).toBeGreaterThan(0)
  await expect(page.getByTestId('scan-heading')).toHaveText(`Scan #${id}`)
  const status = page.getByTestId('scan-status').locator('[data-status]')
  if (screenshot) {
    // The live view: the progress bar while the tools run.
    await expect(page.getByTestId('scan-progress')).toBeVisible()
    await shot(page, screenshot)
  }
  await expect(status).toHaveAttribute('data-status', /completed|failed|error|cancelled/, {
    timeout: SCAN_TIMEOUT,
  })
  await expect(status).toHaveAttribute('data-status', 'completed')
  await expect(page.getByTestId('scan-progress-value')).toHaveText('100')
  return id
}

test('register, scan the sample, triage, rescan, filter and export', async ({ page }) => {
  test.skip(!SAMPLE, 'SECULITE_E2E_SAMPLE_PATH (the vulnerable sample) is not set')
  test.setTimeout(200_000)
  const username = unique('e2e')

  await register(page, username)
  await expect(page.getByTestId('dashboard-empty')).toBeVisible()

  // --- Project and target ----------------------------------------------------------------------
  const projectId = await createProject(page, 'Vulnerable app')
  await page.getByRole('button', { name: 'Add target' }).click()
  await page.getByTestId('target-name').fill('sample')
  await page.getByTestId('target-type').selectOption('git_repository')
  await page.getByTestId('target-git-local').check()
  await page.getByTestId('target-identifier').fill(SAMPLE)
  await page.getByTestId('target-save').click()
  await expect(page.getByTestId('target-row-sample')).toBeVisible()

  // --- Scan configuration with three tools --------------------------------------------------
  await page.getByTestId('tab-configurations').click()
  await page.getByRole('link', { name: 'New configuration' }).click()
  await page.getByTestId('configuration-name').fill('SAST')
  await page.getByTestId('configuration-target-sample').check()
  for (const tool of TOOLS) await page.getByTestId(`tool-toggle-${tool}`).check()
  await shot(page, 'configuration-editor')
  await page.getByTestId('configuration-save').click()
  await expect(page.getByTestId('configuration-notice')).toContainText('Saved')

  // --- Launch and watch ---------------------------------------------------------------------
  await page.getByRole('button', { name: 'Launch scan' }).click()
  const firstScan = await waitForScan(page, 'scan-running')
  for (const tool of TOOLS) {
    await expect(
      page
        .getByTestId(`tool-result-${tool}`)
        .getByTestId('tool-result-status')
        .locator('[data-status]'),
    ).toHaveAttribute('data-status', /completed|no_findings/)
  }
  await expect(page.getByTestId('summary-total')).not.toHaveText('0')
  await expect(page.getByTestId('compare-none')).toBeVisible()
  await shot(page, 'scan-completed')

  // --- The scan's findings, one opened and marked false positive -----------------------------
  await page.getByTestId('scan-findings-link').click()
  await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/findings\\?scan=${firstScan}`))
  const rows = page.getByTestId('finding-list').locator('tbody tr[data-severity]')
  await expect(rows.first()).toBeVisible()
  await shot(page, 'findings-list', { fullPage: false })
  // A bandit finding: its snippet comes with the report.
  await page.getByTestId('filter-tool').selectOption('bandit')
  await expect(page).toHaveURL(/tool=bandit/)
  await expect(rows.first()).toContainText('bandit')
  const tools = await rows.evaluateAll((trs) => trs.map((tr) => tr.textContent ?? ''))
  expect(tools.every((text) => text.includes('bandit'))).toBe(true)
  const first = rows.first()
  const severity = (await first.getAttribute('data-severity')) ?? ''
  const findingTitle = (await first.getByTestId('finding-link').textContent())?.trim() ?? ''
  await first.getByTestId('finding-link').click()
  await expect(page.getByTestId('finding-heading')).toHaveText(findingTitle)
  const findingUrl = page.url().split('?')[0] ?? ''
  await expect(
    page.getByTestId('code-snippet').getByTestId('code-line-flagged').first(),
  ).toBeVisible()
  await expect(page.getByTestId('finding-status-value')).toContainText(/New/)
  await shot(page, 'finding-detail')

  await page.getByRole('button', { name: 'Mark as false positive' }).click()
  await expect(page.getByTestId('finding-status-value')).toContainText('False positive')
  await expect(page.getByTestId('finding-history')).toContainText('false positive')
  await shot(page, 'finding-false-positive')

  // --- Rescan: the triage stays --------------------------------------------------------------
  await page.goto(`/scans/${firstScan}`)
  await page.getByRole('button', { name: 'Rescan' }).click()
  await expect(page).not.toHaveURL(new RegExp(`/scans/${firstScan}$`))
  const secondScan = await waitForScan(page)
  expect(secondScan).toBeGreaterThan(firstScan)
  const compare = page.getByTestId('scan-compare')
  await expect(compare.getByTestId('compare-base')).toHaveText(`scan #${firstScan}`)
  await expect(compare.getByTestId('compare-new').getByTestId('compare-count')).toHaveText('0')
  await expect(compare.getByTestId('compare-fixed').getByTestId('compare-count')).toHaveText('0')
  await shot(page, 'scan-comparison')

  await page.goto(findingUrl)
  await expect(page.getByTestId('finding-heading')).toHaveText(findingTitle)
  await expect(page.getByTestId('finding-status-value')).toContainText('False positive')
  await expect(page.getByRole('link', { name: `scan #${secondScan}` })).toBeVisible()

  // --- Filter by severity through the URL, then export that filter as CSV ---------------------
  await page.goto(`/findings?severity=${severity}&size=100`)
  await expect(page.getByTestId(`chip-severity-${severity}`)).toHaveAttribute(
    'aria-pressed',
    'true',
  )
  const listed = page.getByTestId('finding-list').locator('tbody tr[data-severity]')
  await expect(listed.first()).toBeVisible()
  const severities = await listed.evaluateAll((trs) =>
    trs.map((tr) => tr.getAttribute('data-severity')),
  )
  expect(new Set(severities)).toEqual(new Set([severity]))
  const ids = await listed.evaluateAll((trs) =>
    trs.map((tr) => tr.getAttribute('data-testid')?.replace('finding-row-', '')),
  )
  await expect(page.getByTestId('page-next')).toBeDisabled()
  await shot(page, 'findings-filtered', { fullPage: false })

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-csv').click(),
  ])
  expect(download.suggestedFilename()).toMatch(/\.csv$/)
  const csv = parseCsv(readFileSync(await download.path(), 'utf8'))
  expect(csv.length).toBe(ids.length)
  expect(new Set(csv.map((row) => row.id))).toEqual(new Set(ids))
  for (const row of csv) {
    expect(row.severity).toBe(severity)
    expect(row.project).toBe('Vulnerable app')
    expect(TOOLS as readonly string[]).toContain(row.tool_id)
  }
  const triaged = csv.find((row) => row.title === findingTitle && row.status === 'false_positive')
  expect(triaged, 'the false positive is exported with its status').toBeTruthy()

  // --- The dashboard now has data ------------------------------------------------------------
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Dashboard' })
    .click()
  await expect(page.getByTestId('severity-chart').locator('canvas')).toBeVisible()
  await expect(page.getByTestId('trend-chart').locator('canvas')).toBeVisible()
  await expect(page.getByTestId('recent-scans')).toContainText(`Scan #${secondScan}`)
  await expect(page.getByTestId('top-projects')).toContainText('Vulnerable app')
  await expect(page.getByTestId('health-status')).toHaveText('All systems operational')
  await shot(page, 'dashboard')
})

/**
 * Import a SARIF report through the dialog: an unreadable file first (the API's message is
 * shown), then a real SARIF log that the dialog follows to its end, and its findings.
 */
import { createProject, expect, register, shot, test, unique } from './helpers'

/** A SARIF 2.1.0 log of a made-up scanner with three results. */
function sarifLog(): string {
  const rule = (id: string, cwe: number, level: string, name: string) => ({
    id,
    name,
    shortDescription: { text: name },
    properties: { tags: ['security', `external/cwe/cwe-${cwe}`] },
    defaultConfiguration: { level },
  })
  const result = (ruleId: string, level: string, uri: string, line: number, text: string) => ({
    ruleId,
    level,
    message: { text },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri },
          region: {
            startLine: line,
            snippet: { text: `query = "SELECT * FROM t WHERE id=" + id` },
          },
        },
      },
    ],
  })
  return JSON.stringify({
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'E2E Scanner',
            version: '1.0.0',
            rules: [
              rule('E2E001', 89, 'error', 'SQL injection'),
              rule('E2E002', 79, 'warning', 'Cross-site scripting'),
              rule('E2E003', 798, 'note', 'Hard-coded password'),
            ],
          },
        },
        results: [
          result('E2E001', 'error', 'app/db.py', 12, 'SQL built from user input'),
          result('E2E002', 'warning', 'app/views.py', 40, 'Unescaped output'),
          result('E2E003', 'note', 'app/settings.py', 3, 'A password in the code'),
        ],
      },
    ],
  })
}

test('import a SARIF report through the dialog', async ({ page }) => {
  await register(page, unique('imp'))
  const projectId = await createProject(page, 'Imported')
  await page.getByTestId('tab-findings').click()
  await expect(page.getByTestId('findings-empty')).toBeVisible()

  // A file that is no report: the API's own words come back.
  await page.getByRole('button', { name: 'Import report' }).click()
  const dialog = page.getByRole('dialog', { name: 'Import a report' })
  await expect(dialog).toBeVisible()
  await dialog.getByLabel(/Report file/).setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('these are my notes, not a scanner report\n'),
  })
  await dialog.getByRole('button', { name: 'Import' }).click()
  const error = dialog.getByTestId('import-error')
  await expect(error).toBeVisible({ timeout: 30_000 })
  await expect(error).toContainText(/report|format/i)
  await shot(page, 'import-error')

  // A SARIF log, format detected: the dialog follows the import to its end.
  await dialog.getByRole('button', { name: 'Import another report' }).click()
  await dialog.getByLabel(/Report file/).setInputFiles({
    name: 'e2e-scanner.sarif',
    mimeType: 'application/json',
    buffer: Buffer.from(sarifLog()),
  })
  await expect(dialog.getByLabel('Format')).toHaveValue('')
  await shot(page, 'import-dialog')
  await dialog.getByRole('button', { name: 'Import' }).click()
  await expect(dialog.getByTestId('import-status')).toContainText('Imported', { timeout: 60_000 })
  await expect(dialog.getByTestId('import-status')).toContainText('sarif')
  await expect(dialog.getByTestId('import-status')).toContainText('3 findings (3 new)')
  await shot(page, 'import-done')

  await dialog.getByRole('link', { name: 'View the imported findings' }).click()
  await expect(dialog).toBeHidden()
  await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/findings\\?scan=\\d+`))
  const rows = page.getByTestId('finding-list').locator('tbody tr[data-severity]')
  await expect(rows).toHaveCount(3)
  await expect(page.getByTestId('finding-list')).toContainText('SQL built from user input')
  // Sorted by severity, most severe first.
  await expect(rows.first()).toHaveAttribute('data-severity', 'high')
  await shot(page, 'import-findings')

  await rows.first().getByTestId('finding-link').click()
  await expect(page.getByTestId('finding-location')).toContainText('app/db.py, line 12')
  const cwe = page.getByTestId('finding-cwe')
  await expect(cwe).toHaveText(/CWE-89/)
  await expect(cwe).toHaveAttribute('href', 'https://cwe.mitre.org/data/definitions/89.html')
})

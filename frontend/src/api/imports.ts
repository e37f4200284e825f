/** Report imports: upload a scanner's report (multipart) and list a project's imports. */
import { apiPost } from './client'
import { listAll } from './pagination'
import { endpoint, type Schemas } from './types'

export type ImportScan = Schemas['ImportScan']
export type ReportImport = Schemas['ReportImport']
export type ImportFormat = Schemas['FormatEnum']

/** Every format the server reads: a Record, so a format added to the schema fails the type-check
 * until it is listed here. "" (not listed) lets the server detect the format. */
const FORMAT_SET: Record<ImportFormat, true> = {
  sarif: true,
  bandit: true,
  checkov: true,
  'detect-secrets': true,
  eslint: true,
  gitleaks: true,
  hadolint: true,
  nmap: true,
  'pip-audit': true,
  semgrep: true,
  shellcheck: true,
  sslyze: true,
  'trivy-config': true,
  'trivy-fs': true,
  'trivy-image': true,
  wapiti: true,
  'zap-baseline': true,
}
export const IMPORT_FORMATS = Object.keys(FORMAT_SET) as ImportFormat[]

export interface ImportInput {
  file: File
  /** A target of the project; none: the project's "Imported reports" target. */
  targetId?: number | null
  /** Empty: detected from the content. */
  format?: ImportFormat | ''
}

/** Upload a report; the answer is the import's scan (queued), which a worker then processes. */
export function uploadReport(projectId: number, input: ImportInput): Promise<ImportScan> {
  const form = new FormData()
  form.append('file', input.file, input.file.name)
  if (input.targetId) form.append('target_id', String(input.targetId))
  if (input.format) form.append('format', input.format)
  return apiPost<ImportScan>(
    endpoint('/projects/{project_pk}/imports/', { project_pk: projectId }),
    form,
  )
}

export function listImports(projectId: number): Promise<ReportImport[]> {
  return listAll<ReportImport>(
    endpoint('/projects/{project_pk}/imports/', { project_pk: projectId }),
  )
}

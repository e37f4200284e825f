/** Findings: the keyset-paginated list, detail, triage (one or many), comments, exports. */
import { apiGet, apiPatch, apiPost, apiUrl, toQueryString, type Query } from './client'
import { endpoint, type Schemas } from './types'

export type Finding = Schemas['FindingList']
export type FindingDetail = Schemas['FindingDetail']
export type FindingComment = Schemas['FindingComment']
export type FindingHistory = Schemas['FindingHistory']
export type Severity = Schemas['SeverityEnum']
export type FindingStatus = Schemas['FindingStatusEnum']
export type TriageStatus = Schemas['FindingTriageStatusEnum']
export type TriageChanges = Schemas['PatchedFindingTriage']
export type BulkResult = Schemas['FindingBulkResult']

/** Most severe first: the order of chips, charts and the `severity` ordering's rank. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info']

export const FINDING_STATUSES: readonly FindingStatus[] = [
  'new',
  'confirmed',
  'in_progress',
  'reopened',
  'false_positive',
  'risk_accepted',
  'resolved',
  'auto_resolved',
]

/** Statuses of findings still to be dealt with (apps/findings/models.py OPEN_STATUSES). */
export const OPEN_STATUSES: readonly FindingStatus[] = [
  'new',
  'confirmed',
  'in_progress',
  'reopened',
]

/** What an analyst may set (`new` and `auto_resolved` are the platform's). */
export const TRIAGE_STATUSES: readonly TriageStatus[] = [
  'confirmed',
  'in_progress',
  'false_positive',
  'risk_accepted',
  'resolved',
  'reopened',
]

export const STATUS_LABELS: Record<FindingStatus, string> = {
  new: 'New',
  confirmed: 'Confirmed',
  in_progress: 'In progress',
  reopened: 'Reopened',
  false_positive: 'False positive',
  risk_accepted: 'Risk accepted',
  resolved: 'Resolved',
  auto_resolved: 'Auto-resolved',
}

export const SEVERITY_LABELS: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Info',
}

/** The orderings the list's keyset pagination offers (apps/findings/filters.py ORDERINGS). */
export const ORDERINGS = [
  '-severity',
  'severity',
  '-id',
  'id',
  '-first_seen_at',
  'first_seen_at',
  '-last_seen_at',
  'last_seen_at',
  'due_date',
  '-due_date',
] as const
export type Ordering = (typeof ORDERINGS)[number]
export const DEFAULT_ORDERING: Ordering = '-severity'

export const EXPORT_FORMATS = ['csv', 'json', 'sarif'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The list's query parameters as the API names them (see FindingFilter). */
export interface FindingApiQuery {
  project_id?: number[]
  target_id?: number[]
  scan_id?: number[]
  tool_id?: string[]
  severity?: Severity[]
  status?: FindingStatus[]
  cwe_id?: number[]
  cve_id?: string[]
  path?: string
  assigned_to_user_id?: number[]
  tag?: string[]
  overdue?: boolean
  search?: string
  ordering?: Ordering
}

/** One page of the list: opaque cursors for the neighbouring pages (no total count). */
export interface FindingPage {
  results: Finding[]
  next: string | null
  previous: string | null
}

/** The `cursor` parameter of a next/previous link (the API sends absolute URLs). */
export function cursorOf(link: string | null | undefined): string | null {
  if (!link) return null
  try {
    return new URL(link, 'http://localhost').searchParams.get('cursor')
  } catch {
    return null
  }
}

export async function listFindings(
  query: FindingApiQuery & { cursor?: string | null; page_size?: number },
  options: { signal?: AbortSignal } = {},
): Promise<FindingPage> {
  const page = await apiGet<Schemas['PaginatedFindingListList']>(endpoint('/findings/'), {
    ...options,
    query: { ...query } as Query,
  })
  return { results: page.results, next: page.next ?? null, previous: page.previous ?? null }
}

export function getFinding(id: number, options: { signal?: AbortSignal } = {}) {
  return apiGet<FindingDetail>(endpoint('/findings/{id}/', { id }), options)
}

export function triageFinding(id: number, changes: TriageChanges): Promise<FindingDetail> {
  return apiPatch<FindingDetail>(endpoint('/findings/{id}/', { id }), changes)
}

/** Change the findings `ids`, or every finding matching `filter` (the list's API query). */
export function bulkUpdateFindings(
  target: { ids: number[] } | { filter: FindingApiQuery },
  changes: TriageChanges,
): Promise<BulkResult> {
  return apiPost<BulkResult>(endpoint('/findings/bulk_update/'), { ...target, changes })
}

export async function listComments(findingId: number): Promise<FindingComment[]> {
  const page = await apiGet<Schemas['PaginatedFindingCommentList']>(
    endpoint('/findings/{finding_pk}/comments/', { finding_pk: findingId }),
    { query: { page_size: 500 } },
  )
  return page.results
}

export function addComment(findingId: number, body: string): Promise<FindingComment> {
  return apiPost<FindingComment>(
    endpoint('/findings/{finding_pk}/comments/', { finding_pk: findingId }),
    { body },
  )
}

/**
 * A link the browser downloads (the session cookie authorizes it): the findings matching
 * `query` in `format`, from all the caller's projects or from one scan.
 */
export function exportUrl(
  format: ExportFormat,
  query: FindingApiQuery,
  scope: { scanId?: number } = {},
): string {
  const path = scope.scanId
    ? endpoint('/scans/{id}/export/', { id: scope.scanId })
    : endpoint('/findings/export/')
  return `${apiUrl(path)}${toQueryString({ ...(query as Query), format })}`
}

/** cwe.mitre.org page of a CWE number. */
export function cweUrl(cwe: number): string {
  return `https://cwe.mitre.org/data/definitions/${cwe}.html`
}

/** NVD page of a CVE id (only well-formed ids get a link). */
export function cveUrl(cve: string): string | null {
  return /^CVE-\d{4}-\d{4,}$/i.test(cve.trim())
    ? `https://nvd.nist.gov/vuln/detail/${encodeURIComponent(cve.trim().toUpperCase())}`
    : null
}

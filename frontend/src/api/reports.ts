/** Dashboards and scan reports: summary, trend, a scan's report and its comparison. */
import { apiGet } from './client'
import { endpoint, type Schemas } from './types'

export type DashboardSummary = Schemas['DashboardSummary']
export type DashboardTrend = Schemas['DashboardTrend']
export type TrendPoint = Schemas['TrendPoint']
export type SeverityCounts = Schemas['SeverityCounts']
export type ScanCompare = Schemas['ScanCompare']
export type CompareSet = Schemas['CompareSet']

/** The scan report's `counts` (the schema types it as a free-form object). */
export interface ScanReportCounts {
  total: number
  by_severity: SeverityCounts
  new: number
  new_by_severity: SeverityCounts
  recurring: number
  resolved: number
  resolved_by_severity: SeverityCounts
}

export interface ScanReport {
  scan: {
    id: number
    project_id: number
    project: string
    status: string
    duration_seconds: number | null
  }
  configuration: { id: number; name: string } | null
  targets: Array<{ id: number; name: string; asset_type: string; identifier: string }>
  tools: Array<{
    id: number
    tool_id: string
    target_id: number
    status: string
    findings_count: number
  }>
  counts: ScanReportCounts
}

export function getDashboardSummary(query: { project_id?: number } = {}) {
  return apiGet<DashboardSummary>(endpoint('/dashboard/summary/'), { query: { ...query } })
}

/** Open findings by severity per day: the last `days` days, or date_from..date_to. */
export function getDashboardTrend(
  query: { days?: number; date_from?: string; date_to?: string; project_id?: number } = {},
) {
  return apiGet<DashboardTrend>(endpoint('/dashboard/trend/'), { query: { ...query } })
}

export async function getScanReport(scanId: number): Promise<ScanReport> {
  const body = await apiGet<Schemas['ScanReport']>(endpoint('/scans/{id}/report/', { id: scanId }))
  return body as unknown as ScanReport
}

/** New, fixed and unchanged findings against `base` (default: the previous finished scan of
 * the same configuration). A 400 with `errors.base` means there is nothing to compare with. */
export function getScanCompare(scanId: number, query: { base?: number; limit?: number } = {}) {
  return apiGet<ScanCompare>(endpoint('/scans/{id}/compare/', { id: scanId }), {
    query: { ...query },
  })
}

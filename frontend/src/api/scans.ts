/** Scans: list, detail with per-tool results, cancel, rescan, raw report download. */
import { apiGet, apiPost, apiUrl } from './client'
import { endpoint, type Page, type Schemas } from './types'

export type Scan = Schemas['Scan']
export type ScanDetail = Schemas['ScanDetail']
export type ToolResult = Schemas['ToolResult']
export type ScanStatus = Schemas['ScanStatusEnum']
export type ToolResultStatus = Schemas['ToolResultStatusEnum']

export const SCAN_STATUSES: readonly ScanStatus[] = [
  'pending',
  'queued',
  'running',
  'completed',
  'failed',
  'error',
  'cancelled',
]

/** Statuses after which a scan no longer changes (apps/scans/models.py SCAN_FINISHED). */
export const FINISHED_STATUSES: readonly ScanStatus[] = [
  'completed',
  'failed',
  'error',
  'cancelled',
]

export function isScanFinished(status: ScanStatus | undefined): boolean {
  return status !== undefined && FINISHED_STATUSES.includes(status)
}

export interface ScanQuery {
  page?: number
  page_size?: number
  status?: ScanStatus[]
  project_id?: number[]
  configuration_id?: number[]
  ordering?: string
}

export function listScans(query: ScanQuery = {}): Promise<Page<Scan>> {
  return apiGet<Page<Scan>>(endpoint('/scans/'), { query: { ...query } })
}

export function getScan(id: number, options: { signal?: AbortSignal } = {}): Promise<ScanDetail> {
  return apiGet<ScanDetail>(endpoint('/scans/{id}/', { id }), options)
}

export function cancelScan(id: number): Promise<Scan> {
  return apiPost<Scan>(endpoint('/scans/{id}/cancel/', { id }))
}

/** A new scan of the same configuration. */
export function rescan(id: number): Promise<Scan> {
  return apiPost<Scan>(endpoint('/scans/{id}/rescan/', { id }))
}

/** Link for the browser to download a tool's raw report (the session cookie authorizes it). */
export function rawOutputUrl(scanId: number, resultId: number): string {
  return apiUrl(
    endpoint('/scans/{id}/toolresults/{result_pk}/raw/', { id: scanId, result_pk: resultId }),
  )
}

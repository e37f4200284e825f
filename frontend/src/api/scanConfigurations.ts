/** Scan configurations of a project: tools with overrides, targets, schedule, webhook. */
import { apiDelete, apiGet, apiPatch, apiPost } from './client'
import { listAll } from './pagination'
import type { Scan } from './scans'
import { endpoint, type Schemas } from './types'

/**
 * `webhook_url` is sent once, by create/update when a webhook was just enabled; the schema
 * does not declare it (ScanConfigurationViewSet._answer adds it to the body).
 */
export type ScanConfiguration = Schemas['ScanConfiguration'] & { webhook_url?: string }
export type ToolEntry = Schemas['ToolEntry']
export type ScheduleType = Schemas['ScheduleTypeEnum']
export type WebhookToken = Schemas['WebhookToken']

export interface ScanConfigurationInput {
  name: string
  description?: string
  target_assets?: number[]
  target_groups?: number[]
  tools_and_configs: ToolEntry[]
  schedule_type?: ScheduleType
  /** An ISO date-time (once, read in `timezone` when it has no offset) or a cron expression. */
  schedule?: string
  timezone?: string
  webhook_enabled?: boolean
  is_active?: boolean
}

function collection(projectId: number): string {
  return endpoint('/projects/{project_pk}/scanconfigurations/', { project_pk: projectId })
}

function item(projectId: number, id: number): string {
  return endpoint('/projects/{project_pk}/scanconfigurations/{id}/', { project_pk: projectId, id })
}

export function listScanConfigurations(projectId: number): Promise<ScanConfiguration[]> {
  return listAll<ScanConfiguration>(collection(projectId))
}

export function getScanConfiguration(projectId: number, id: number): Promise<ScanConfiguration> {
  return apiGet<ScanConfiguration>(item(projectId, id))
}

export function createScanConfiguration(
  projectId: number,
  input: ScanConfigurationInput,
): Promise<ScanConfiguration> {
  return apiPost<ScanConfiguration>(collection(projectId), input)
}

export function updateScanConfiguration(
  projectId: number,
  id: number,
  input: Partial<ScanConfigurationInput>,
): Promise<ScanConfiguration> {
  return apiPatch<ScanConfiguration>(item(projectId, id), input)
}

export function deleteScanConfiguration(projectId: number, id: number): Promise<void> {
  return apiDelete(item(projectId, id))
}

/** A manual-schedule copy named "<name> (copy)". */
export function cloneScanConfiguration(projectId: number, id: number): Promise<ScanConfiguration> {
  return apiPost<ScanConfiguration>(
    endpoint('/projects/{project_pk}/scanconfigurations/{id}/clone/', {
      project_pk: projectId,
      id,
    }),
  )
}

export function launchScan(projectId: number, id: number): Promise<Scan> {
  return apiPost<Scan>(
    endpoint('/projects/{project_pk}/scanconfigurations/{id}/launch/', {
      project_pk: projectId,
      id,
    }),
  )
}

/** A new secret webhook URL (the old one stops working); shown only in this answer. */
export function rotateWebhook(projectId: number, id: number): Promise<WebhookToken> {
  return apiPost<WebhookToken>(
    endpoint('/projects/{project_pk}/scanconfigurations/{id}/rotate-webhook/', {
      project_pk: projectId,
      id,
    }),
  )
}

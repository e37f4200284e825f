/** Platform settings (staff only): SMTP today, more fields as the backend adds them. */
import { apiGet, apiPatch } from './client'
import { endpoint, type Schemas } from './types'

export type SystemSettings = Schemas['SystemSettings']
export type SystemSettingsInput = Schemas['PatchedSystemSettings']

export function getSystemSettings(): Promise<SystemSettings> {
  return apiGet<SystemSettings>(endpoint('/system-settings/'))
}

export function updateSystemSettings(input: SystemSettingsInput): Promise<SystemSettings> {
  return apiPatch<SystemSettings>(endpoint('/system-settings/'), input)
}

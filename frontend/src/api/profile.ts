/** The signed-in user's profile (time zone, notifications) and personal API key. */
import { apiDelete, apiGet, apiPatch, apiPost } from './client'
import { endpoint, type Schemas } from './types'

/** The schema leaves `notification_preferences` untyped: booleans and one severity. */
export type NotificationPreferences = Record<string, boolean | string>

export type UserProfile = Omit<Schemas['UserProfile'], 'notification_preferences'> & {
  notification_preferences: NotificationPreferences
}

export type ApiKeyInfo = Schemas['ApiKeyInfo']
export type ApiKeyCreated = Schemas['ApiKeyCreated']

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const

export function getProfile(): Promise<UserProfile> {
  return apiGet<UserProfile>(endpoint('/auth/userprofile/'))
}

export function updateProfile(
  input: Partial<Pick<UserProfile, 'timezone' | 'notification_preferences' | 'avatar_url'>>,
): Promise<UserProfile> {
  return apiPatch<UserProfile>(endpoint('/auth/userprofile/'), input)
}

/** Only the prefix and dates: the key itself is never shown again. */
export function getApiKey(): Promise<ApiKeyInfo> {
  return apiGet<ApiKeyInfo>(endpoint('/auth/userprofile/api-key/'))
}

/** Create or rotate the key; the answer holds the key, shown once. */
export function createApiKey(): Promise<ApiKeyCreated> {
  return apiPost<ApiKeyCreated>(endpoint('/auth/userprofile/api-key/'))
}

export function revokeApiKey(): Promise<void> {
  return apiDelete(endpoint('/auth/userprofile/api-key/'))
}

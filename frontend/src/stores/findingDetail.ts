import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import * as findingsApi from '@/api/findings'

/**
 * The finding on the detail page: its record (with history and the latest comments), and the
 * triage and comment actions with their own busy and error state, so a failed save shows its
 * errors on the form while the record stays on screen.
 */
export const useFindingDetailStore = defineStore('findingDetail', () => {
  const finding = shallowRef<findingsApi.FindingDetail | null>(null)
  const loading = ref(false)
  const error = shallowRef<ApiError | null>(null)
  const saving = ref(false)
  const saveError = shallowRef<ApiError | null>(null)
  const commenting = ref(false)
  const commentError = shallowRef<ApiError | null>(null)
  let latest = 0

  async function load(id: number): Promise<void> {
    const call = ++latest
    if (finding.value?.id !== id) finding.value = null
    loading.value = true
    error.value = null
    saveError.value = null
    commentError.value = null
    try {
      const result = await findingsApi.getFinding(id)
      if (call === latest) finding.value = result
    } catch (e) {
      if (call === latest) error.value = toApiError(e)
    } finally {
      if (call === latest) loading.value = false
    }
  }

  /** PATCH the finding; true when saved (the answer replaces the record). */
  async function triage(changes: findingsApi.TriageChanges): Promise<boolean> {
    if (!finding.value) return false
    saving.value = true
    saveError.value = null
    try {
      finding.value = await findingsApi.triageFinding(finding.value.id, changes)
      return true
    } catch (e) {
      saveError.value = toApiError(e)
      return false
    } finally {
      saving.value = false
    }
  }

  async function comment(body: string): Promise<boolean> {
    if (!finding.value) return false
    commenting.value = true
    commentError.value = null
    try {
      const created = await findingsApi.addComment(finding.value.id, body)
      finding.value = { ...finding.value, comments: [created, ...finding.value.comments] }
      return true
    } catch (e) {
      commentError.value = toApiError(e)
      return false
    } finally {
      commenting.value = false
    }
  }

  return {
    finding,
    loading,
    error,
    saving,
    saveError,
    commenting,
    commentError,
    load,
    triage,
    comment,
  }
})

import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { type ApiError, toApiError } from '@/api/client'
import { getHealth, HEALTH_PARTS, type Health, type HealthPart } from '@/api/health'

export const useHealthStore = defineStore('health', () => {
  /** The last health report, or `null` before the first answer and after a failed check. */
  const health = ref<Health | null>(null)
  const loading = ref(false)
  /** Set when the check itself failed (server unreachable, unexpected answer). */
  const error = ref<ApiError | null>(null)
  /** When the last check finished, successfully or not. */
  const checkedAt = ref<Date | null>(null)

  /** Parts reported as anything other than "ok". */
  const failedParts = computed<HealthPart[]>(() => {
    const report = health.value
    if (!report) return []
    return HEALTH_PARTS.filter((part) => report[part] !== 'ok')
  })

  const operational = computed(() => health.value !== null && failedParts.value.length === 0)

  let pending: Promise<void> | null = null

  /** Fetch the health report; concurrent calls share one request. Never throws. */
  function refresh(): Promise<void> {
    if (pending) return pending
    loading.value = true
    pending = (async () => {
      try {
        health.value = await getHealth()
        error.value = null
      } catch (e) {
        // A stale "ok" would be misleading once the server stops answering.
        health.value = null
        error.value = toApiError(e)
      } finally {
        checkedAt.value = new Date()
        loading.value = false
        pending = null
      }
    })()
    return pending
  }

  return { health, loading, error, checkedAt, failedParts, operational, refresh }
})

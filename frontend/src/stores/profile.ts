import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import * as profileApi from '@/api/profile'
import { browserTimeZone } from '@/composables/timezones'

/** The signed-in user's preferences; the time zone is the default of new schedules. */
export const useProfileStore = defineStore('profile', () => {
  const profile = ref<profileApi.UserProfile | null>(null)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  const timeZone = computed(() => profile.value?.timezone || browserTimeZone())

  async function load(): Promise<void> {
    loading.value = true
    try {
      profile.value = await profileApi.getProfile()
      error.value = null
    } catch (e) {
      error.value = toApiError(e)
    } finally {
      loading.value = false
    }
  }

  async function ensureLoaded(): Promise<void> {
    if (!profile.value && !loading.value) await load()
  }

  /** Throws the ApiError to the form that called it. */
  async function update(
    input: Parameters<typeof profileApi.updateProfile>[0],
  ): Promise<profileApi.UserProfile> {
    profile.value = await profileApi.updateProfile(input)
    return profile.value
  }

  return { profile, loading, error, timeZone, load, ensureLoaded, update }
})

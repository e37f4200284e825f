import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import * as authApi from '@/api/auth'
import { ApiError, toApiError } from '@/api/client'

/** Who is signed in. `loaded` turns true after the first GET /auth/user/ answered. */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<authApi.User | null>(null)
  const loaded = ref(false)
  const error = ref<ApiError | null>(null)
  let pending: Promise<authApi.User | null> | null = null

  const isAuthenticated = computed(() => user.value !== null)
  const isStaff = computed(() => user.value?.is_staff === true)

  /** Ask the server who is signed in; a 401 means nobody (not an error). */
  async function fetchUser(): Promise<authApi.User | null> {
    pending ??= (async () => {
      try {
        user.value = await authApi.getCurrentUser()
        error.value = null
      } catch (e) {
        const apiError = toApiError(e)
        user.value = null
        error.value = apiError.status === 401 || apiError.status === 403 ? null : apiError
      } finally {
        loaded.value = true
        pending = null
      }
      return user.value
    })()
    return pending
  }

  /** The user, fetched once per page load (the router guard calls this on every navigation). */
  async function ensureLoaded(): Promise<authApi.User | null> {
    if (loaded.value) return user.value
    return fetchUser()
  }

  /** Errors are thrown to the form, which shows them on the fields (or the lockout message). */
  async function login(input: authApi.LoginInput): Promise<authApi.User> {
    const signedIn = await authApi.login(input)
    user.value = signedIn
    loaded.value = true
    return signedIn
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      forget()
    }
  }

  /** Drop the user locally (the session ended or expired). */
  function forget(): void {
    user.value = null
    loaded.value = true
  }

  return {
    user,
    loaded,
    error,
    isAuthenticated,
    isStaff,
    fetchUser,
    ensureLoaded,
    login,
    logout,
    forget,
  }
})

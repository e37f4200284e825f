import { ref, shallowRef, type Ref } from 'vue'

import { ApiError, toApiError } from '@/api/client'

/**
 * Loading and error state around one API call, for views that do not need a store.
 * `run()` resolves to the result, or to `undefined` when it failed (the error is in `error`).
 */
export function useRequest<T, A extends unknown[]>(fn: (...args: A) => Promise<T>) {
  const data = shallowRef<T | null>(null) as Ref<T | null>
  const loading = ref(false)
  const error = shallowRef<ApiError | null>(null)
  let latest = 0

  async function run(...args: A): Promise<T | undefined> {
    const call = ++latest
    loading.value = true
    error.value = null
    try {
      const result = await fn(...args)
      if (call === latest) data.value = result
      return result
    } catch (e) {
      if (call === latest) error.value = toApiError(e)
      return undefined
    } finally {
      if (call === latest) loading.value = false
    }
  }

  return { data, loading, error, run }
}

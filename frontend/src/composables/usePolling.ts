import { getCurrentScope, onScopeDispose, ref } from 'vue'

export interface PollingOptions<T> {
  /** Milliseconds between the end of one request and the start of the next. */
  intervalMs: number
  /** Polling stops for good once this returns true for a result. */
  isDone: (result: T) => boolean
  /** Start at once (default) or wait for `start()`. */
  immediate?: boolean
}

/**
 * Call `fetcher` every `intervalMs` until `isDone(result)`, the caller calls `stop()`, or the
 * component (effect scope) that called this is unmounted. Requests never overlap: the next
 * one is scheduled after the previous answered. A failed request is retried on the next tick;
 * its error is kept in `error` until a request succeeds.
 */
export function usePolling<T>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  { intervalMs, isDone, immediate = true }: PollingOptions<T>,
) {
  const data = ref<T | null>(null)
  const error = ref<unknown>(null)
  const active = ref(false)
  const loading = ref(false)

  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: AbortController | null = null
  let generation = 0

  function clear(): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }

  function stop(): void {
    generation += 1
    active.value = false
    clear()
    controller?.abort()
    controller = null
  }

  async function tick(run: number): Promise<void> {
    if (run !== generation) return
    controller = new AbortController()
    loading.value = true
    try {
      const result = await fetcher(controller.signal)
      if (run !== generation) return
      data.value = result as typeof data.value
      error.value = null
      if (isDone(result)) {
        stop()
        return
      }
    } catch (e) {
      if (run !== generation) return
      error.value = e
    } finally {
      if (run === generation) loading.value = false
    }
    if (run === generation) timer = setTimeout(() => void tick(run), intervalMs)
  }

  /** (Re)start polling now, e.g. after a rescan or when the id in the route changes. */
  function start(): void {
    stop()
    active.value = true
    void tick(generation)
  }

  if (getCurrentScope()) onScopeDispose(stop)
  if (immediate) start()

  return { data, error, active, loading, start, stop }
}

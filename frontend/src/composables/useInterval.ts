import { onBeforeUnmount, onMounted } from 'vue'

/**
 * Call `callback` every `ms` milliseconds while the calling component is mounted
 * (and once on mount when `immediate` is true). The timer stops on unmount.
 */
export function useInterval(
  callback: () => unknown,
  ms: number,
  { immediate = false }: { immediate?: boolean } = {},
): { stop: () => void } {
  let timer: ReturnType<typeof setInterval> | undefined

  function stop() {
    if (timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }

  onMounted(() => {
    if (immediate) void callback()
    timer = setInterval(() => void callback(), ms)
  })
  onBeforeUnmount(stop)

  return { stop }
}

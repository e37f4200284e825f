import { onScopeDispose, ref } from 'vue'

/** Copy text to the clipboard; `copied` is true for a moment afterwards. */
export function useClipboard() {
  const copied = ref(false)
  const failed = ref(false)
  let timer: ReturnType<typeof setTimeout> | undefined

  async function copy(text: string): Promise<boolean> {
    failed.value = false
    try {
      if (!navigator.clipboard) throw new Error('no clipboard')
      await navigator.clipboard.writeText(text)
      copied.value = true
      if (timer) clearTimeout(timer)
      timer = setTimeout(() => (copied.value = false), 2500)
      return true
    } catch {
      // Non-secure origins have no clipboard API: the text stays selectable for Ctrl+C.
      failed.value = true
      return false
    }
  }

  onScopeDispose(() => timer && clearTimeout(timer))
  return { copied, failed, copy }
}

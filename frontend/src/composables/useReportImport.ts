import { computed, ref, shallowRef } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import { listImports, uploadReport, type ImportInput, type ImportScan } from '@/api/imports'
import { getScan, isScanFinished, type ScanDetail } from '@/api/scans'

import { usePolling } from './usePolling'

export type ImportPhase = 'idle' | 'uploading' | 'processing' | 'completed' | 'failed'

/**
 * Upload a report, then follow the import's scan until it is finished. A refused upload keeps
 * the API's error (field errors included); an import that fails keeps the scan's own message.
 */
export function useReportImport(options: { intervalMs?: number } = {}) {
  const phase = ref<ImportPhase>('idle')
  const uploaded = shallowRef<ImportScan | null>(null)
  const uploadError = shallowRef<ApiError | null>(null)
  /** The format the worker read the report as (known once the import ran). */
  const detectedFormat = ref('')
  let projectOfImport = 0

  /** The import record names the detected format; the scan does not. */
  async function readDetectedFormat(scanId: number): Promise<void> {
    try {
      const found = (await listImports(projectOfImport)).find((i) => i.scan_id === scanId)
      detectedFormat.value = found?.detected_format || found?.requested_format || ''
    } catch {
      // Only a label: the import's result stands without it.
    }
  }

  const polling = usePolling<ScanDetail>((signal) => getScan(uploaded.value?.id ?? 0, { signal }), {
    intervalMs: options.intervalMs ?? 1000,
    immediate: false,
    isDone: (scan) => {
      if (!isScanFinished(scan.status)) return false
      phase.value = scan.status === 'completed' ? 'completed' : 'failed'
      void readDetectedFormat(scan.id)
      return true
    },
  })

  const scan = computed<ScanDetail | ImportScan | null>(() => polling.data.value ?? uploaded.value)
  /** Why the import failed, in the API's words. */
  const failure = computed<string | null>(() => {
    if (uploadError.value) return uploadError.value.detail
    if (phase.value !== 'failed') return null
    const s = polling.data.value
    // The reason is on the tool result(s) of the import; the scan may carry its own as well.
    const reasons = (s?.tool_results ?? []).map((r) => r.error_message).filter(Boolean)
    return (
      [...new Set(reasons)].join(' ') ||
      s?.error_message ||
      `The import ended as ${s?.status ?? 'failed'}.`
    )
  })
  const busy = computed(() => phase.value === 'uploading' || phase.value === 'processing')

  async function start(projectId: number, input: ImportInput): Promise<void> {
    polling.stop()
    polling.data.value = null
    uploaded.value = null
    uploadError.value = null
    detectedFormat.value = input.format ?? ''
    projectOfImport = projectId
    phase.value = 'uploading'
    try {
      uploaded.value = await uploadReport(projectId, input)
    } catch (e) {
      uploadError.value = toApiError(e)
      phase.value = 'failed'
      return
    }
    phase.value = 'processing'
    polling.start()
  }

  function reset(): void {
    polling.stop()
    polling.data.value = null
    uploaded.value = null
    uploadError.value = null
    detectedFormat.value = ''
    phase.value = 'idle'
  }

  return {
    phase,
    scan,
    uploaded,
    uploadError,
    detectedFormat,
    failure,
    busy,
    pollError: polling.error,
    start,
    reset,
  }
}

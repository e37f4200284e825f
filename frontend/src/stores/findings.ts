import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import * as findingsApi from '@/api/findings'

export interface FindingsRequest {
  query: findingsApi.FindingApiQuery
  cursor: string | null
  pageSize: number
}

/**
 * The findings list: one page at a time (keyset cursors, never the whole set), the selection
 * for bulk triage, and loading / error state. A newer request aborts an older one, so a slow
 * answer never replaces a newer page.
 */
export const useFindingsStore = defineStore('findings', () => {
  const rows = shallowRef<findingsApi.Finding[]>([])
  const next = ref<string | null>(null)
  const previous = ref<string | null>(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  /** Ids picked for bulk triage (on the current page). */
  const selected = ref<Set<number>>(new Set())
  const lastRequest = shallowRef<FindingsRequest | null>(null)
  let controller: AbortController | null = null

  const allSelected = computed(
    () => rows.value.length > 0 && rows.value.every((f) => selected.value.has(f.id)),
  )
  const selectedIds = computed(() =>
    rows.value.filter((f) => selected.value.has(f.id)).map((f) => f.id),
  )

  async function load(request: FindingsRequest): Promise<void> {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    lastRequest.value = request
    loading.value = true
    try {
      const page = await findingsApi.listFindings(
        { ...request.query, cursor: request.cursor, page_size: request.pageSize },
        { signal: mine.signal },
      )
      if (controller !== mine) return
      rows.value = page.results
      next.value = findingsApi.cursorOf(page.next)
      previous.value = page.previous ? (findingsApi.cursorOf(page.previous) ?? '') : null
      error.value = null
      loaded.value = true
      // Keep only selected ids still on the page.
      const onPage = new Set(page.results.map((f) => f.id))
      selected.value = new Set([...selected.value].filter((id) => onPage.has(id)))
    } catch (e) {
      if (controller !== mine) return
      error.value = toApiError(e)
    } finally {
      if (controller === mine) {
        loading.value = false
        controller = null
      }
    }
  }

  /** Load the same page again (after a change). */
  async function reload(): Promise<void> {
    if (lastRequest.value) await load(lastRequest.value)
  }

  function toggle(id: number): void {
    const copy = new Set(selected.value)
    if (copy.has(id)) copy.delete(id)
    else copy.add(id)
    selected.value = copy
  }

  function toggleAll(): void {
    selected.value = allSelected.value ? new Set() : new Set(rows.value.map((f) => f.id))
  }

  function clearSelection(): void {
    selected.value = new Set()
  }

  /** Apply `changes` to the selected findings (or to every finding matching `filter`). */
  async function bulkTriage(
    changes: findingsApi.TriageChanges,
    filter?: findingsApi.FindingApiQuery,
  ): Promise<findingsApi.BulkResult> {
    const target = filter ? { filter } : { ids: selectedIds.value }
    const result = await findingsApi.bulkUpdateFindings(target, changes)
    clearSelection()
    await reload()
    return result
  }

  return {
    rows,
    next,
    previous,
    loading,
    loaded,
    error,
    selected,
    selectedIds,
    allSelected,
    load,
    reload,
    toggle,
    toggleAll,
    clearSelection,
    bulkTriage,
  }
})

import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { findingRow, jsonResponse, mockFetch, mockFetchRoutes, urlOf } from '@/test/http'

import { useFindingsStore } from './findings'

const NEXT = 'http://testserver/api/v1/findings/?cursor=abc123&severity=high'

describe('useFindingsStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    document.cookie = 'csrftoken=tok; path=/'
  })

  it('loads one page with the filters, ordering, cursor and size, and keeps the cursors', async () => {
    const fetchMock = mockFetch(() =>
      jsonResponse(200, { next: NEXT, previous: null, results: [findingRow(1), findingRow(2)] }),
    )
    const store = useFindingsStore()
    await store.load({
      query: { severity: ['high', 'critical'], project_id: [3], ordering: 'due_date' },
      cursor: 'xyz',
      pageSize: 25,
    })
    expect(urlOf(fetchMock, 0)).toBe(
      '/api/v1/findings/?severity=high%2Ccritical&project_id=3&ordering=due_date&cursor=xyz&page_size=25',
    )
    expect(store.rows.map((f) => f.id)).toEqual([1, 2])
    expect(store.next).toBe('abc123')
    expect(store.previous).toBeNull()
    expect(store.loaded).toBe(true)
  })

  it('marks a previous page that is the first one (a link without a cursor)', async () => {
    mockFetch(() =>
      jsonResponse(200, {
        next: null,
        previous: 'http://testserver/api/v1/findings/?severity=high',
        results: [],
      }),
    )
    const store = useFindingsStore()
    await store.load({ query: {}, cursor: 'c', pageSize: 50 })
    expect(store.previous).toBe('')
  })

  it('never lets an older answer replace a newer page', async () => {
    let release: (r: Response) => void = () => {}
    const fetchMock = vi.fn((url: string, init?: RequestInit) => {
      if (url.includes('severity=low')) {
        return new Promise<Response>((resolve, reject) => {
          release = resolve
          init?.signal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          )
        })
      }
      return Promise.resolve(jsonResponse(200, { next: null, results: [findingRow(9)] }))
    })
    vi.stubGlobal('fetch', fetchMock)
    const store = useFindingsStore()
    const slow = store.load({ query: { severity: ['low'] }, cursor: null, pageSize: 50 })
    await store.load({ query: { severity: ['high'] }, cursor: null, pageSize: 50 })
    release(jsonResponse(200, { next: null, results: [findingRow(1)] }))
    await slow
    expect(store.rows.map((f) => f.id)).toEqual([9])
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
  })

  it('keeps the error of a failed page in the API shape', async () => {
    mockFetch(() =>
      jsonResponse(404, { detail: 'Invalid cursor.', errors: {}, error_code: 'not_found' }),
    )
    const store = useFindingsStore()
    await store.load({ query: {}, cursor: 'broken', pageSize: 50 })
    expect(store.error?.detail).toBe('Invalid cursor.')
  })

  it('selects rows, and bulk-triages the selected ids then reloads the page', async () => {
    let listed = 0
    const fetchMock = mockFetchRoutes(
      [
        '/api/v1/findings/bulk_update/',
        () => jsonResponse(200, { updated: 1, failed: [{ id: 2, errors: { status: ['No.'] } }] }),
      ],
      [
        '/api/v1/findings/',
        () => {
          listed += 1
          return jsonResponse(200, { next: null, results: [findingRow(1), findingRow(2)] })
        },
      ],
    )
    const store = useFindingsStore()
    await store.load({ query: { project_id: [2] }, cursor: null, pageSize: 50 })
    store.toggle(1)
    store.toggle(2)
    expect(store.allSelected).toBe(true)
    store.toggle(2)
    expect(store.selectedIds).toEqual([1])
    store.toggleAll()
    expect(store.selectedIds).toEqual([1, 2])
    store.toggleAll()
    expect(store.selectedIds).toEqual([])
    store.toggle(1)
    store.toggle(2)

    const result = await store.bulkTriage({ status: 'false_positive', note: 'test code' })
    expect(result.failed).toHaveLength(1)
    const post = fetchMock.mock.calls.find(([url]) => String(url).includes('bulk_update'))
    expect(JSON.parse(String(post?.[1]?.body))).toEqual({
      ids: [1, 2],
      changes: { status: 'false_positive', note: 'test code' },
    })
    expect((post?.[1]?.headers as Record<string, string>)['X-CSRFToken']).toBe('tok')
    expect(listed).toBe(2)
    expect(store.selected.size).toBe(0)
  })

  it('forgets selected ids that left the page', async () => {
    mockFetch(
      () => jsonResponse(200, { next: null, results: [findingRow(1), findingRow(2)] }),
      () => jsonResponse(200, { next: null, results: [findingRow(2), findingRow(3)] }),
    )
    const store = useFindingsStore()
    await store.load({ query: {}, cursor: null, pageSize: 50 })
    store.toggleAll()
    await store.load({ query: {}, cursor: 'n', pageSize: 50 })
    expect([...store.selected]).toEqual([2])
  })
})

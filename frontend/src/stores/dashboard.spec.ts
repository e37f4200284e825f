import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { jsonResponse, mockFetch, urlOf } from '@/test/http'

import { useDashboardStore } from './dashboard'

const TREND = {
  date_from: '2025-01-01',
  date_to: '2025-01-07',
  project_id: null,
  snapshots_since: null,
  points: [],
}

describe('useDashboardStore', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('loads the trend for the chosen range', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, TREND))
    const store = useDashboardStore()
    await store.loadTrend()
    await store.loadTrend(7)
    expect(urlOf(fetchMock, 0)).toBe('/api/v1/dashboard/trend/?days=30')
    expect(urlOf(fetchMock, 1)).toBe('/api/v1/dashboard/trend/?days=7')
    expect(store.range).toBe(7)
    expect(store.trend?.date_from).toBe('2025-01-01')
  })

  it('keeps the summary error apart from the trend', async () => {
    mockFetch(
      () => jsonResponse(503, { detail: 'Down.', errors: {}, error_code: 'service_unavailable' }),
      () => jsonResponse(200, TREND),
    )
    const store = useDashboardStore()
    await store.loadSummary()
    await store.loadTrend()
    expect(store.summaryError?.detail).toBe('Down.')
    expect(store.trendError).toBeNull()
    expect(store.trend).not.toBeNull()
  })
})

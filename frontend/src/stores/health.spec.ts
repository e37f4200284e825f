import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { ApiError } from '@/api/client'
import { BROKER_DOWN, HEALTHY, jsonResponse, mockFetch } from '@/test/http'

import { useHealthStore } from './health'

describe('useHealthStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('starts empty', () => {
    const store = useHealthStore()
    expect(store.health).toBeNull()
    expect(store.loading).toBe(false)
    expect(store.error).toBeNull()
    expect(store.operational).toBe(false)
  })

  it('stores a healthy report and is loading only while the request runs', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, HEALTHY))
    const store = useHealthStore()

    const done = store.refresh()
    expect(store.loading).toBe(true)
    await done

    expect(fetchMock).toHaveBeenCalledWith('/api/v1/health/', expect.anything())
    expect(store.loading).toBe(false)
    expect(store.error).toBeNull()
    expect(store.health).toEqual(HEALTHY)
    expect(store.failedParts).toEqual([])
    expect(store.operational).toBe(true)
    expect(store.checkedAt).toBeInstanceOf(Date)
  })

  it('keeps the body of a 503 as the report and names the failed part', async () => {
    mockFetch(() => jsonResponse(503, BROKER_DOWN, 'Service Unavailable'))
    const store = useHealthStore()

    await store.refresh()

    expect(store.error).toBeNull()
    expect(store.health).toEqual({
      database: 'ok',
      broker: 'unavailable',
      workers: 0,
      beat_last_seen: '2025-01-15T10:30:00+00:00',
    })
    expect(store.failedParts).toEqual(['broker'])
    expect(store.operational).toBe(false)
    expect(store.loading).toBe(false)
  })

  it('lists both parts when database and broker are down', async () => {
    mockFetch(() =>
      jsonResponse(503, {
        database: 'unavailable',
        broker: 'unavailable',
        workers: 0,
        beat_last_seen: null,
        detail: 'Unavailable: database, broker.',
        errors: {},
        error_code: 'service_unavailable',
      }),
    )
    const store = useHealthStore()
    await store.refresh()
    expect(store.failedParts).toEqual(['database', 'broker'])
  })

  it('records a network failure as an ApiError and drops the stale report', async () => {
    mockFetch(() => jsonResponse(200, HEALTHY), new TypeError('Failed to fetch'))
    const store = useHealthStore()
    await store.refresh()
    expect(store.operational).toBe(true)

    await store.refresh()

    expect(store.loading).toBe(false)
    expect(store.health).toBeNull()
    expect(store.operational).toBe(false)
    expect(store.error).toBeInstanceOf(ApiError)
    expect(store.error).toMatchObject({ status: 0, errorCode: 'network_error' })
  })

  it('clears the error once the server answers again', async () => {
    mockFetch(new TypeError('Failed to fetch'), () => jsonResponse(200, HEALTHY))
    const store = useHealthStore()
    await store.refresh()
    expect(store.error).not.toBeNull()

    await store.refresh()

    expect(store.error).toBeNull()
    expect(store.health).toEqual(HEALTHY)
  })

  it('shares one request between overlapping refreshes', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, HEALTHY))
    const store = useHealthStore()

    await Promise.all([store.refresh(), store.refresh(), store.refresh()])

    expect(fetchMock).toHaveBeenCalledTimes(1)
  })
})

import { describe, expect, it } from 'vitest'

import { BROKER_DOWN, HEALTHY, jsonResponse, mockFetch } from '@/test/http'

import { ApiError } from './client'
import { getHealth, toHealth } from './health'

describe('getHealth', () => {
  it('returns the report of a healthy platform', async () => {
    mockFetch(() => jsonResponse(200, HEALTHY))
    await expect(getHealth()).resolves.toEqual(HEALTHY)
  })

  it('returns the fields of a 503 as data instead of throwing', async () => {
    mockFetch(() => jsonResponse(503, BROKER_DOWN, 'Service Unavailable'))
    await expect(getHealth()).resolves.toEqual({
      database: 'ok',
      broker: 'unavailable',
      workers: 0,
      beat_last_seen: '2025-01-15T10:30:00+00:00',
    })
  })

  it('throws for a 503 that carries no health report', async () => {
    mockFetch(() =>
      jsonResponse(503, {
        detail: 'The database is unavailable; try again shortly.',
        errors: {},
        error_code: 'service_unavailable',
      }),
    )
    const error = await getHealth().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 503, errorCode: 'service_unavailable' })
  })

  it('rejects a 200 whose body is not a health report', async () => {
    mockFetch(() => jsonResponse(200, { hello: 'world' }))
    await expect(getHealth()).rejects.toMatchObject({ errorCode: 'invalid_response' })
  })
})

describe('toHealth', () => {
  it('treats a missing beat_last_seen as never seen', () => {
    expect(toHealth({ database: 'ok', broker: 'ok', workers: 1 })).toEqual({
      database: 'ok',
      broker: 'ok',
      workers: 1,
      beat_last_seen: null,
    })
  })

  it('rejects bodies without the health fields', () => {
    expect(toHealth(null)).toBeNull()
    expect(toHealth({ database: 'ok', broker: 'ok' })).toBeNull()
    expect(toHealth({ database: 'ok', broker: 1, workers: 0 })).toBeNull()
  })
})

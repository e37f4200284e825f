import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { findingDetail, jsonResponse, mockFetch, urlOf } from '@/test/http'

import { useFindingDetailStore } from './findingDetail'

describe('useFindingDetailStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    document.cookie = 'csrftoken=tok; path=/'
  })

  it('loads a finding, then PATCHes only the triage changes and keeps the answer', async () => {
    const fetchMock = mockFetch(
      () => jsonResponse(200, findingDetail(4)),
      () => jsonResponse(200, findingDetail(4, { status: 'false_positive' })),
    )
    const store = useFindingDetailStore()
    await store.load(4)
    expect(store.finding?.title).toBe('Finding 4')
    expect(await store.triage({ status: 'false_positive' })).toBe(true)
    expect(urlOf(fetchMock, 1)).toBe('/api/v1/findings/4/')
    const init = fetchMock.mock.calls[1] as unknown as [string, RequestInit]
    expect(init[1].method).toBe('PATCH')
    expect(JSON.parse(String(init[1].body))).toEqual({ status: 'false_positive' })
    expect(store.finding?.status).toBe('false_positive')
  })

  it('keeps a refused change as an error for the form and the record as it was', async () => {
    mockFetch(
      () => jsonResponse(200, findingDetail(4)),
      () =>
        jsonResponse(400, {
          detail: 'Invalid input.',
          errors: { risk_acceptance_justification: ['Say why the risk is accepted.'] },
          error_code: 'invalid',
        }),
    )
    const store = useFindingDetailStore()
    await store.load(4)
    expect(await store.triage({ status: 'risk_accepted' })).toBe(false)
    expect(store.saveError?.errors.risk_acceptance_justification).toEqual([
      'Say why the risk is accepted.',
    ])
    expect(store.finding?.status).toBe('new')
  })

  it('puts a new comment first', async () => {
    const old = {
      id: 1,
      author: { id: 1, username: 'a' },
      body: 'old',
      created_at: '',
      updated_at: '',
    }
    mockFetch(
      () => jsonResponse(200, findingDetail(4, { comments: [old] })),
      () => jsonResponse(201, { ...old, id: 2, body: 'new' }),
    )
    const store = useFindingDetailStore()
    await store.load(4)
    expect(await store.comment('new')).toBe(true)
    expect(store.finding?.comments.map((c) => c.body)).toEqual(['new', 'old'])
  })

  it('reports a finding that is not there', async () => {
    mockFetch(() =>
      jsonResponse(404, { detail: 'Not found.', errors: {}, error_code: 'not_found' }),
    )
    const store = useFindingDetailStore()
    await store.load(99)
    expect(store.finding).toBeNull()
    expect(store.error?.status).toBe(404)
  })
})

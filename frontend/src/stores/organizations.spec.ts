import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { jsonResponse, mockFetch, urlOf } from '@/test/http'

import { useOrganizationsStore } from './organizations'

const org = (id: number, role: string | null, is_personal = false) => ({
  id,
  name: `Org ${id}`,
  is_personal,
  role,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
})

describe('useOrganizationsStore', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('loads the organizations with the role in each and answers what the role allows', async () => {
    const fetchMock = mockFetch(() =>
      jsonResponse(200, {
        next: null,
        previous: null,
        results: [org(1, 'owner', true), org(2, 'auditor'), org(3, 'member')],
      }),
    )
    const store = useOrganizationsStore()
    await store.ensureLoaded()
    await store.ensureLoaded()

    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(urlOf(fetchMock, 0)).toBe('/api/v1/organizations/?page=1&page_size=500')
    expect(store.roleIn(2)).toBe('auditor')
    expect(store.canWriteIn(2)).toBe(false)
    expect(store.canWriteIn(3)).toBe(true)
    expect(store.canManageIn(3)).toBe(false)
    expect(store.canManageIn(1)).toBe(true)
    expect(store.canWriteIn(99)).toBe(false)
    expect(store.writable.map((o) => o.id)).toEqual([1, 3])
  })

  it('follows the next page', async () => {
    const fetchMock = mockFetch(
      () =>
        jsonResponse(200, {
          next: 'http://x/api/v1/organizations/?page=2',
          results: [org(1, 'owner')],
        }),
      () => jsonResponse(200, { next: null, results: [org(2, 'admin')] }),
    )
    const store = useOrganizationsStore()
    await store.load()
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(store.organizations.map((o) => o.id)).toEqual([1, 2])
  })

  it('keeps the error of a failed load', async () => {
    mockFetch(() =>
      jsonResponse(500, {
        detail: 'Internal server error.',
        errors: {},
        error_code: 'server_error',
      }),
    )
    const store = useOrganizationsStore()
    await store.load()
    expect(store.error?.detail).toBe('Internal server error.')
    expect(store.loaded).toBe(false)
  })
})

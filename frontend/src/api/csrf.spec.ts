import { afterEach, describe, expect, it, vi } from 'vitest'

import { clearCookies, headersOf, jsonResponse, mockFetch, urlOf, USER } from '@/test/http'

import { login } from './auth'
import {
  ApiError,
  apiDelete,
  apiGet,
  apiPatch,
  apiPost,
  setUnauthorizedHandler,
  toQueryString,
} from './client'

afterEach(() => {
  clearCookies()
  setUnauthorizedHandler(null)
})

describe('CSRF on unsafe requests', () => {
  it('asks /auth/csrf/ for the cookie first when there is none, then sends it as X-CSRFToken', async () => {
    const fetchMock = mockFetch(
      () => {
        document.cookie = 'csrftoken=first-token; path=/'
        return new Response(null, { status: 204 })
      },
      () => jsonResponse(201, { id: 3, name: 'Sample' }),
    )

    await expect(apiPost('/projects/', { name: 'Sample' })).resolves.toEqual({
      id: 3,
      name: 'Sample',
    })

    expect(urlOf(fetchMock, 0)).toBe('/api/v1/auth/csrf/')
    const [url, init] = fetchMock.mock.calls[1] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/projects/')
    expect(init.method).toBe('POST')
    expect(init.credentials).toBe('same-origin')
    expect(init.body).toBe('{"name":"Sample"}')
    expect(headersOf(fetchMock.mock.calls[1]!)).toMatchObject({
      'X-CSRFToken': 'first-token',
      'Content-Type': 'application/json',
    })
  })

  it('reads the rotated token after login: the next write carries the new one', async () => {
    document.cookie = 'csrftoken=before-login; path=/'
    const fetchMock = mockFetch(
      () => {
        // Django's login() rotates the token and sets the new cookie on the answer.
        document.cookie = 'csrftoken=after-login; path=/'
        return jsonResponse(200, { token: 'slt_x', user: USER })
      },
      () => jsonResponse(200, { id: 4, role: 'admin' }),
    )

    await expect(login({ username: 'dana', password: 'pw' })).resolves.toEqual(USER)
    await apiPatch('/organizations/1/members/4/', { role: 'admin' })

    expect(headersOf(fetchMock.mock.calls[0]!)['X-CSRFToken']).toBe('before-login')
    expect(headersOf(fetchMock.mock.calls[1]!)['X-CSRFToken']).toBe('after-login')
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })

  it('gets a fresh token and retries once when the server refuses a stale one', async () => {
    document.cookie = 'csrftoken=stale; path=/'
    const fetchMock = mockFetch(
      () =>
        jsonResponse(403, {
          detail: "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect.",
          errors: {},
          error_code: 'permission_denied',
        }),
      () => {
        document.cookie = 'csrftoken=fresh; path=/'
        return new Response(null, { status: 204 })
      },
      () => new Response(null, { status: 204 }),
    )

    await expect(apiDelete('/projects/3/')).resolves.toBeUndefined()

    expect(fetchMock.mock.calls.map((_call, i) => urlOf(fetchMock, i))).toEqual([
      '/api/v1/projects/3/',
      '/api/v1/auth/csrf/',
      '/api/v1/projects/3/',
    ])
    expect(headersOf(fetchMock.mock.calls[2]!)['X-CSRFToken']).toBe('fresh')
  })

  it('does not retry other 403 answers', async () => {
    document.cookie = 'csrftoken=ok; path=/'
    const fetchMock = mockFetch(() =>
      jsonResponse(403, {
        detail: 'Your role in this organization does not allow this.',
        errors: {},
        error_code: 'permission_denied',
      }),
    )
    await expect(apiPost('/projects/', {})).rejects.toMatchObject({ status: 403 })
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('sends no CSRF header on reads', async () => {
    document.cookie = 'csrftoken=ok; path=/'
    const fetchMock = mockFetch(() => jsonResponse(200, { results: [] }))
    await apiGet('/projects/', { query: { page: 2, name: '' } })
    expect(urlOf(fetchMock, 0)).toBe('/api/v1/projects/?page=2')
    expect(headersOf(fetchMock.mock.calls[0]!)).toEqual({ Accept: 'application/json' })
  })

  it('explains a browser that keeps no cookie', async () => {
    mockFetch(() => new Response(null, { status: 204 }))
    const error = await apiPost('/projects/', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ errorCode: 'csrf_cookie_missing' })
  })
})

describe('session expiry', () => {
  it('tells the app about every 401', async () => {
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    mockFetch(() =>
      jsonResponse(401, {
        detail: 'Authentication credentials were not provided.',
        errors: {},
        error_code: 'not_authenticated',
      }),
    )
    await expect(apiGet('/scans/')).rejects.toMatchObject({ status: 401 })
    expect(handler).toHaveBeenCalledTimes(1)
  })
})

describe('toQueryString', () => {
  it('leaves out empty values and joins lists with commas', () => {
    expect(
      toQueryString({
        status: ['running', 'queued'],
        project_id: [],
        page: 1,
        q: undefined,
        x: null,
      }),
    ).toBe('?status=running%2Cqueued&page=1')
    expect(toQueryString({})).toBe('')
  })
})

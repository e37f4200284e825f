import { describe, expect, it } from 'vitest'

import { jsonResponse, mockFetch } from '@/test/http'

import { ApiError, apiGet, apiPost, apiUrl, parseApiError, toApiError } from './client'

describe('parseApiError', () => {
  it('reads the API error shape into typed fields', () => {
    const error = parseApiError(400, {
      detail: 'Invalid input.',
      errors: { name: ['This field is required.'], 'targets.0.url': ['Enter a valid URL.'] },
      error_code: 'required',
    })

    expect(error).toBeInstanceOf(ApiError)
    expect(error).toBeInstanceOf(Error)
    expect(error.status).toBe(400)
    expect(error.detail).toBe('Invalid input.')
    expect(error.message).toBe('Invalid input.')
    expect(error.errorCode).toBe('required')
    expect(error.errors).toEqual({
      name: ['This field is required.'],
      'targets.0.url': ['Enter a valid URL.'],
    })
  })

  it('keeps the raw body for callers that treat an error status as data', () => {
    const body = { detail: 'Unavailable: broker.', errors: {}, error_code: 'x', broker: 'down' }
    expect(parseApiError(503, body).body).toBe(body)
  })

  it('drops malformed field errors instead of trusting them', () => {
    const error = parseApiError(400, {
      detail: 'Invalid input.',
      errors: { a: 'single message', b: [1, 'kept'], c: 42, d: [] },
      error_code: 'invalid',
    })
    expect(error.errors).toEqual({ a: ['single message'], b: ['kept'] })
  })

  it('gives a usable message when the body is not in the API shape', () => {
    const error = parseApiError(502, undefined, 'Bad Gateway')
    expect(error.status).toBe(502)
    expect(error.detail).toBe('Request failed: 502 Bad Gateway.')
    expect(error.errorCode).toBe('http_502')
    expect(error.errors).toEqual({})

    expect(parseApiError(500, ['unexpected']).detail).toBe('Request failed with status 500.')
    expect(parseApiError(404, { detail: '' }).errorCode).toBe('http_404')
  })
})

describe('toApiError', () => {
  it('maps a fetch TypeError to a network error with status 0', () => {
    const error = toApiError(new TypeError('Failed to fetch'))
    expect(error.status).toBe(0)
    expect(error.errorCode).toBe('network_error')
    expect(error.detail).toBe('Could not reach the SecuLite server.')
  })

  it('returns an ApiError unchanged', () => {
    const original = new ApiError(403, 'Forbidden.', 'permission_denied')
    expect(toApiError(original)).toBe(original)
  })
})

describe('apiGet', () => {
  it('prefixes /api/v1 and sends same-origin credentials', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, { ok: true }))

    await expect(apiGet<{ ok: boolean }>('/health/')).resolves.toEqual({ ok: true })

    expect(fetchMock).toHaveBeenCalledTimes(1)
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/health/')
    expect(init.method).toBe('GET')
    expect(init.credentials).toBe('same-origin')
    expect(init.headers).toEqual({ Accept: 'application/json' })
  })

  it('accepts paths with or without a leading slash', () => {
    expect(apiUrl('projects/')).toBe('/api/v1/projects/')
    expect(apiUrl('/projects/')).toBe('/api/v1/projects/')
  })

  it('throws an ApiError parsed from an error response', async () => {
    mockFetch(() =>
      jsonResponse(
        403,
        {
          detail: 'You do not have permission to perform this action.',
          errors: {},
          error_code: 'permission_denied',
        },
        'Forbidden',
      ),
    )

    const error = await apiGet('/projects/').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      status: 403,
      detail: 'You do not have permission to perform this action.',
      errorCode: 'permission_denied',
      errors: {},
    })
  })

  it('throws an ApiError for a non-JSON error page', async () => {
    mockFetch(
      () => new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }),
    )

    await expect(apiGet('/health/')).rejects.toMatchObject({
      status: 502,
      errorCode: 'http_502',
      detail: 'Request failed: 502 Bad Gateway.',
    })
  })

  it('throws a network ApiError when the server cannot be reached', async () => {
    mockFetch(new TypeError('fetch failed'))

    await expect(apiGet('/health/')).rejects.toMatchObject({
      name: 'ApiError',
      status: 0,
      errorCode: 'network_error',
    })
  })
})

describe('apiPost with FormData', () => {
  it('sends multipart as it is, with the CSRF token and without a JSON content type', async () => {
    document.cookie = 'csrftoken=multi; path=/'
    const fetchMock = mockFetch(() => jsonResponse(202, { id: 1 }))
    const form = new FormData()
    form.append('file', new File(['x'], 'x.json'))
    await apiPost('/projects/2/imports/', form)
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1]
    expect(init.body).toBe(form)
    const headers = init.headers as Record<string, string>
    expect(headers['X-CSRFToken']).toBe('multi')
    expect(headers['Content-Type']).toBeUndefined()
  })
})

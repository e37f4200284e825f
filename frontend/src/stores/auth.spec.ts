import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { clearCookies, jsonResponse, mockFetch, USER } from '@/test/http'

import { useAuthStore } from './auth'

const NOT_AUTHENTICATED = {
  detail: 'Authentication credentials were not provided.',
  errors: {},
  error_code: 'not_authenticated',
}

describe('useAuthStore', () => {
  beforeEach(() => setActivePinia(createPinia()))
  afterEach(clearCookies)

  it('treats a 401 from /auth/user/ as "nobody signed in", not as an error', async () => {
    mockFetch(() => jsonResponse(401, NOT_AUTHENTICATED))
    const auth = useAuthStore()
    await expect(auth.ensureLoaded()).resolves.toBeNull()
    expect(auth.loaded).toBe(true)
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.error).toBeNull()
  })

  it('asks the server once per page load, even for concurrent callers', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, USER))
    const auth = useAuthStore()
    const [a, b] = await Promise.all([auth.ensureLoaded(), auth.ensureLoaded()])
    await auth.ensureLoaded()
    expect(a).toEqual(USER)
    expect(b).toEqual(USER)
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('keeps a server failure as an error', async () => {
    mockFetch(new TypeError('Failed to fetch'))
    const auth = useAuthStore()
    await auth.fetchUser()
    expect(auth.user).toBeNull()
    expect(auth.error?.errorCode).toBe('network_error')
  })

  it('signs in and out', async () => {
    document.cookie = 'csrftoken=t; path=/'
    mockFetch(
      () => jsonResponse(200, { token: 'slt_x', user: { ...USER, is_staff: true } }),
      () => new Response(null, { status: 204 }),
    )
    const auth = useAuthStore()
    await auth.login({ username: 'dana', password: 'pw' })
    expect(auth.user?.username).toBe('dana')
    expect(auth.isStaff).toBe(true)
    await auth.logout()
    expect(auth.user).toBeNull()
  })

  it('passes the lockout answer to the form in the API words', async () => {
    const locked = {
      detail: 'Too many failed login attempts: this account and address are locked for 15 minutes.',
      errors: {},
      error_code: 'locked_out',
    }
    mockFetch(() => jsonResponse(429, locked))
    const auth = useAuthStore()
    await expect(auth.login({ username: 'dana', password: 'x' })).rejects.toMatchObject({
      status: 429,
      errorCode: 'locked_out',
      detail: locked.detail,
    })
    expect(auth.user).toBeNull()
  })
})

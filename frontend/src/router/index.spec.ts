import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'

import { jsonResponse, mockFetch } from '@/test/http'

import { authGuard, pageTitle, routes, safeNext } from './index'

function makeRouter() {
  return createRouter({ history: createMemoryHistory(), routes })
}

describe('routes', () => {
  it('serves the home view at /', () => {
    expect(makeRouter().resolve('/').name).toBe('home')
  })

  it('serves the findings list and a finding', () => {
    const router = makeRouter()
    expect(router.resolve('/findings?severity=high').name).toBe('findings')
    expect(router.resolve('/findings/12').name).toBe('finding')
    expect(router.resolve('/findings/abc').name).toBe('not-found')
  })

  it('sends unknown deep links to the not-found view', () => {
    const router = makeRouter()
    expect(router.resolve('/no/such/page').name).toBe('not-found')
    expect(router.resolve('/projects/abc').name).toBe('not-found')
    expect(router.resolve('/a/b/c?x=1').name).toBe('not-found')
  })

  it('loads every view lazily', () => {
    for (const route of routes) {
      expect(typeof route.component).toBe('function')
    }
  })

  it('renders the not-found page with a link home', async () => {
    const router = makeRouter()
    await router.push('/no/such/page')
    const wrapper = mount(RouterView, { global: { plugins: [router, createPinia()] } })
    await flushPromises()

    expect(wrapper.get('h1').text()).toBe('Page not found')
    expect(wrapper.text()).toContain('/no/such/page')
    expect(wrapper.text()).toContain('does not exist')
    expect(wrapper.get('a').attributes('href')).toBe('/')
  })

  it('builds page titles', () => {
    expect(pageTitle()).toBe('SecuLite')
    expect(pageTitle('Page not found')).toBe('Page not found · SecuLite')
  })
})

const ADMIN = {
  id: 1,
  username: 'admin',
  email: 'admin@example.org',
  first_name: '',
  last_name: '',
  is_staff: true,
  date_joined: '2025-01-01T00:00:00Z',
}
const NOT_AUTHENTICATED = {
  detail: 'Authentication credentials were not provided.',
  errors: {},
  error_code: 'not_authenticated',
}

describe('authGuard', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('sends a visitor without a session to sign-in and remembers where they were going', async () => {
    const fetchMock = mockFetch(() => jsonResponse(401, NOT_AUTHENTICATED))
    const router = makeRouter()
    router.beforeEach(authGuard)

    await router.push('/projects/7/targets?x=1')

    expect(fetchMock).toHaveBeenCalledWith('/api/v1/auth/user/', expect.anything())
    expect(router.currentRoute.value.name).toBe('sign-in')
    expect(router.currentRoute.value.query.next).toBe('/projects/7/targets?x=1')
  })

  it('lets public pages through without asking who is signed in', async () => {
    const fetchMock = mockFetch(() => jsonResponse(401, NOT_AUTHENTICATED))
    const router = makeRouter()
    router.beforeEach(authGuard)

    await router.push('/reset-password/MQ/abc-123')

    expect(router.currentRoute.value.name).toBe('reset-password')
    expect(router.currentRoute.value.params).toMatchObject({ uid: 'MQ', token: 'abc-123' })
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('lets a signed-in user in and sends them past sign-in', async () => {
    mockFetch(() => jsonResponse(200, ADMIN))
    const router = makeRouter()
    router.beforeEach(authGuard)

    await router.push('/system-settings')
    expect(router.currentRoute.value.name).toBe('system-settings')

    await router.push('/sign-in?next=/scans')
    expect(router.currentRoute.value.fullPath).toBe('/scans')
  })

  it('keeps the admin settings from users who are not staff', async () => {
    mockFetch(() => jsonResponse(200, { ...ADMIN, is_staff: false }))
    const router = makeRouter()
    router.beforeEach(authGuard)

    await router.push('/system-settings')
    expect(router.currentRoute.value.name).toBe('not-found')
  })

  it('serves the e-mailed links', () => {
    const router = makeRouter()
    expect(router.resolve('/invitations/accept?token=t0k').name).toBe('invitation-accept')
    expect(router.resolve('/reset-password/MQ/tok').name).toBe('reset-password')
  })
})

describe('safeNext', () => {
  it('follows only same-site paths', () => {
    expect(safeNext('/scans?status=running')).toBe('/scans?status=running')
    expect(safeNext('//evil.example/x')).toBe('/')
    expect(safeNext('https://evil.example/')).toBe('/')
    expect(safeNext(undefined)).toBe('/')
  })
})

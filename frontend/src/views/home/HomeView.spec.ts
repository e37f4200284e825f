import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { BROKER_DOWN, HEALTHY, jsonResponse, mockFetch } from '@/test/http'

import HomeView from './HomeView.vue'

function mountHome() {
  return mount(HomeView, { global: { plugins: [createPinia()] } })
}

/** Let the mocked fetch and the store settle. */
async function settle() {
  await flushPromises()
  await flushPromises()
}

describe('HomeView', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('shows the name, the tagline and the health values', async () => {
    mockFetch(() => jsonResponse(200, HEALTHY))
    const wrapper = mountHome()
    await settle()

    expect(wrapper.get('h1').text()).toBe('SecuLite')
    expect(wrapper.text()).toContain('Self-hosted security scanning')
    expect(wrapper.get('[data-testid="health-database"]').text()).toContain('ok')
    expect(wrapper.get('[data-testid="health-broker"]').text()).toContain('ok')
    expect(wrapper.get('[data-testid="health-workers"]').text()).toBe('2')
    expect(wrapper.get('[data-testid="health-beat"] time').attributes('datetime')).toBe(
      HEALTHY.beat_last_seen,
    )
    const status = wrapper.get('[data-testid="health-status"]')
    expect(status.text()).toBe('All systems operational')
    expect(status.attributes('role')).toBe('status')
    wrapper.unmount()
  })

  it('shows the 503 report and names the failed part', async () => {
    mockFetch(() => jsonResponse(503, BROKER_DOWN, 'Service Unavailable'))
    const wrapper = mountHome()
    await settle()

    expect(wrapper.get('[data-testid="health-database"]').text()).toContain('ok')
    expect(wrapper.get('[data-testid="health-broker"]').text()).toContain('unavailable')
    expect(wrapper.get('[data-testid="health-workers"]').text()).toBe('0')
    const status = wrapper.get('[data-testid="health-status"]').text()
    expect(status).toBe('The message broker is unavailable.')
    expect(status).not.toContain('operational')
    expect(wrapper.text()).toContain('No worker is running')
    wrapper.unmount()
  })

  it('names both parts when the database and the broker are down', async () => {
    mockFetch(() =>
      jsonResponse(503, {
        ...BROKER_DOWN,
        database: 'unavailable',
        beat_last_seen: null,
      }),
    )
    const wrapper = mountHome()
    await settle()

    expect(wrapper.get('[data-testid="health-status"]').text()).toBe(
      'The database and the message broker are unavailable.',
    )
    expect(wrapper.get('[data-testid="health-beat"]').text()).toBe('never')
    wrapper.unmount()
  })

  it('says the status is unknown when the server cannot be reached', async () => {
    mockFetch(new TypeError('Failed to fetch'))
    const wrapper = mountHome()
    await settle()

    expect(wrapper.get('[data-testid="health-status"]').text()).toBe(
      'Status unknown: Could not reach the SecuLite server.',
    )
    expect(wrapper.get('[data-testid="health-database"]').text()).toContain('unknown')
    expect(wrapper.get('[data-testid="health-workers"]').text()).toBe('unknown')
    wrapper.unmount()
  })

  it('refreshes every 10 seconds and stops when unmounted', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const fetchMock = mockFetch(
      () => jsonResponse(200, HEALTHY),
      () => jsonResponse(503, BROKER_DOWN),
    )
    const wrapper = mountHome()
    await settle()
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(wrapper.get('[data-testid="health-status"]').text()).toBe('All systems operational')

    vi.advanceTimersByTime(9_999)
    expect(fetchMock).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    await settle()
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(wrapper.get('[data-testid="health-status"]').text()).toBe(
      'The message broker is unavailable.',
    )

    wrapper.unmount()
    vi.advanceTimersByTime(60_000)
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })

  it('checks again when "Check now" is pressed', async () => {
    const fetchMock = mockFetch(() => jsonResponse(200, HEALTHY))
    const wrapper = mountHome()
    await settle()

    await wrapper.get('button').trigger('click')
    await settle()

    expect(fetchMock).toHaveBeenCalledTimes(2)
    wrapper.unmount()
  })
})

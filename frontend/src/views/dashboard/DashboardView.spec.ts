import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { h, type PropType } from 'vue'

import { HEALTHY, jsonResponse, mockFetchRoutes } from '@/test/http'

import DashboardView from './DashboardView.vue'

// Chart.js needs a real canvas: the charts are stand-ins here (the e2e test draws them).
vi.mock('@/components/dashboard/SeverityBarChart.vue', () => ({
  __esModule: true,
  default: {
    props: { counts: { type: Object as PropType<Record<string, number>>, required: true } },
    setup: (props: { counts: Record<string, number> }) => () =>
      h('div', { 'data-testid': 'severity-chart' }, JSON.stringify(props.counts)),
  },
}))
vi.mock('@/components/dashboard/TrendLineChart.vue', () => ({
  __esModule: true,
  default: {
    props: { points: { type: Array as PropType<unknown[]>, required: true } },
    setup: (props: { points: unknown[] }) => () =>
      h('div', { 'data-testid': 'trend-chart' }, String(props.points.length)),
  },
}))

const counts = (c: number, hi: number, m: number, l: number, i = 0) => ({
  critical: c,
  high: hi,
  medium: m,
  low: l,
  info: i,
})

const SUMMARY = {
  generated_at: '2025-01-10T00:00:00Z',
  project_id: null,
  open: 9,
  open_by_severity: counts(1, 3, 4, 1),
  open_by_status: { new: 9, confirmed: 0, in_progress: 0, reopened: 0 },
  sla_breaches: { total: 2, by_severity: counts(1, 1, 0, 0) },
  mttr: {
    days: 90,
    by_severity: {
      critical: { mean_days: 2.5, count: 2 },
      high: { mean_days: null, count: 0 },
      medium: { mean_days: null, count: 0 },
      low: { mean_days: null, count: 0 },
      info: { mean_days: null, count: 0 },
    },
  },
  top_projects: [
    { project_id: 3, name: 'Shop', risk_score: 33, open_by_severity: counts(1, 3, 4, 1) },
  ],
  risk_weights: { critical: 10, high: 5, medium: 2, low: 1 },
  recent_scans: [
    {
      id: 12,
      project_id: 3,
      project: 'Shop',
      status: 'completed',
      trigger_type: 'manual',
      created_at: '2025-01-09T00:00:00Z',
      finished_at: '2025-01-09T00:01:00Z',
      total: 9,
      new: 2,
    },
  ],
  assigned_to_me: {
    open: 1,
    by_severity: counts(0, 1, 0, 0),
    items: [
      {
        id: 77,
        title: 'Eval of input',
        severity: 'high',
        status: 'new',
        project_id: 3,
        due_date: '2025-01-20',
      },
    ],
  },
}

const point = (date: string, n: number) => ({ date, ...counts(0, n, 0, 0), total: n })
const TREND = {
  date_from: '2025-01-04',
  date_to: '2025-01-10',
  project_id: null,
  snapshots_since: '2025-01-05',
  points: [point('2025-01-09', 2), point('2025-01-10', 3)],
}

function mountDashboard() {
  const fetchMock = mockFetchRoutes(
    ['/api/v1/dashboard/summary/', () => jsonResponse(200, SUMMARY)],
    ['/api/v1/dashboard/trend/', () => jsonResponse(200, TREND)],
    ['/api/v1/health/', () => jsonResponse(200, HEALTHY)],
  )
  const wrapper = mount(DashboardView, {
    global: { plugins: [createPinia()], stubs: { RouterLink: RouterLinkStub } },
  })
  return { wrapper, fetchMock }
}

describe('DashboardView', () => {
  it('writes out every number the charts draw', async () => {
    const { wrapper } = mountDashboard()
    await flushPromises()
    await flushPromises()
    expect(wrapper.get('[data-testid="tile-open"]').text()).toContain('9')
    expect(wrapper.get('[data-testid="tile-sla"]').text()).toContain('2')
    expect(wrapper.get('[data-testid="tile-assigned"]').text()).toContain('1')
    expect(wrapper.get('[data-testid="open-high"]').text()).toMatch(/High\s*3/)
    expect(wrapper.get('[data-testid="open-critical"]').text()).toMatch(/Critical\s*1/)
    expect(wrapper.get('[data-testid="sla-breaches"]').text()).toContain('1 critical')
    expect(wrapper.get('[data-testid="top-projects"]').text()).toContain('Shop')
    expect(wrapper.get('[data-testid="top-projects"]').text()).toContain('33')
    expect(wrapper.get('[data-testid="recent-scans"]').text()).toContain('9 (2 new)')
    expect(wrapper.get('[data-testid="assigned-to-me"]').text()).toContain('Eval of input')
    expect(wrapper.find('[data-testid="severity-chart"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="trend-chart"]').text()).toBe('2')
    const table = wrapper.get('[data-testid="trend-table"]').text()
    expect(table).toContain('2025-01-10')
    // The severity list links to the open findings of that severity.
    const link = wrapper
      .get('[data-testid="open-high"]')
      .findComponent(RouterLinkStub)
      .props('to') as { query: Record<string, string> }
    expect(link.query).toEqual({ status: 'new,confirmed,in_progress,reopened', severity: 'high' })
    wrapper.unmount()
  })

  it('loads another range when one is chosen', async () => {
    const { wrapper, fetchMock } = mountDashboard()
    await flushPromises()
    await wrapper.get('[data-testid="trend-range"]').setValue('90')
    await flushPromises()
    const urls = fetchMock.mock.calls.map(([u]) => String(u))
    expect(urls).toContain('/api/v1/dashboard/trend/?days=30')
    expect(urls).toContain('/api/v1/dashboard/trend/?days=90')
    wrapper.unmount()
  })

  it('says what to do next when there is nothing yet', async () => {
    mockFetchRoutes(
      [
        '/api/v1/dashboard/summary/',
        () =>
          jsonResponse(200, {
            ...SUMMARY,
            open: 0,
            open_by_severity: counts(0, 0, 0, 0),
            recent_scans: [],
            top_projects: [],
          }),
      ],
      ['/api/v1/dashboard/trend/', () => jsonResponse(200, { ...TREND, points: [] })],
      ['/api/v1/health/', () => jsonResponse(200, HEALTHY)],
    )
    const wrapper = mount(DashboardView, {
      global: { plugins: [createPinia()], stubs: { RouterLink: RouterLinkStub } },
    })
    await flushPromises()
    expect(wrapper.get('[data-testid="dashboard-empty"]').text()).toContain('launch a scan')
    expect(wrapper.find('[data-testid="severity-chart"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="trend-empty"]').exists()).toBe(true)
    wrapper.unmount()
  })
})

import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { jsonResponse, mockFetchRoutes } from '@/test/http'

import ScanReportPanels from './ScanReportPanels.vue'

const sev = (h: number, m: number) => ({ critical: 0, high: h, medium: m, low: 0, info: 0 })
const REPORT = {
  scan: { id: 8 },
  configuration: null,
  targets: [],
  tools: [],
  counts: {
    total: 5,
    by_severity: sev(2, 3),
    new: 1,
    new_by_severity: sev(1, 0),
    recurring: 4,
    resolved: 2,
    resolved_by_severity: sev(0, 2),
  },
}
const item = (id: number, title: string) => ({ id, title, severity: 'high', status: 'new' })

function mountPanels() {
  return mount(ScanReportPanels, {
    props: { scanId: 8, projectId: 2 },
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
}

describe('ScanReportPanels', () => {
  it('shows the summary and the comparison with the previous scan', async () => {
    mockFetchRoutes(
      ['/api/v1/scans/8/report/', () => jsonResponse(200, REPORT)],
      [
        '/api/v1/scans/8/compare/',
        () =>
          jsonResponse(200, {
            base: { id: 7, status: 'completed' },
            head: { id: 8, status: 'completed' },
            new: { count: 1, by_severity: sev(1, 0), items: [item(40, 'Eval')] },
            fixed: {
              count: 2,
              by_severity: sev(0, 2),
              items: [item(30, 'Old'), item(31, 'Older')],
            },
            unchanged: { count: 4, by_severity: sev(1, 3), items: [] },
          }),
      ],
    )
    const wrapper = mountPanels()
    await flushPromises()
    expect(wrapper.get('[data-testid="summary-total"]').text()).toBe('5')
    expect(wrapper.get('[data-testid="scan-summary"]').text()).toContain('2 high, 3 medium')
    expect(wrapper.get('[data-testid="summary-resolved"]').text()).toBe('2')
    expect(wrapper.get('[data-testid="compare-base"]').text()).toBe('scan #7')
    expect(wrapper.get('[data-testid="compare-new"] [data-testid="compare-count"]').text()).toBe(
      '1',
    )
    expect(wrapper.get('[data-testid="compare-fixed"]').text()).toContain('Older')
    expect(wrapper.get('[data-testid="compare-unchanged"]').text()).toContain('1 high, 3 medium')
    expect(wrapper.get('[data-testid="export-csv"]').attributes('href')).toBe(
      '/api/v1/scans/8/export/?format=csv',
    )
  })

  it('says so when there is no earlier scan to compare with', async () => {
    mockFetchRoutes(
      ['/api/v1/scans/8/report/', () => jsonResponse(200, REPORT)],
      [
        '/api/v1/scans/8/compare/',
        () =>
          jsonResponse(400, {
            detail: 'Invalid input.',
            errors: { base: ['This scan has no earlier finished scan: name one in `base`.'] },
            error_code: 'invalid',
          }),
      ],
    )
    const wrapper = mountPanels()
    await flushPromises()
    expect(wrapper.get('[data-testid="compare-none"]').text()).toContain('first finished scan')
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
  })
})

import { mount, RouterLinkStub } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { Finding } from '@/api/findings'
import { findingRow } from '@/test/http'

import FindingTable from './FindingTable.vue'

const rows = [
  findingRow(1, { severity: 'critical', overdue: true }),
  findingRow(2, { severity: 'low', severity_override: 'low', tags: ['pci'] }),
] as unknown as Finding[]

function mountTable(props: Record<string, unknown> = {}) {
  return mount(FindingTable, {
    props: { findings: rows, ordering: '-severity', ...props },
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
}

describe('FindingTable', () => {
  it('renders the page with severity words, locations and overdue marks', () => {
    const wrapper = mountTable()
    const first = wrapper.get('[data-testid="finding-row-1"]')
    expect(first.attributes('data-severity')).toBe('critical')
    expect(first.text()).toContain('Critical')
    expect(first.text()).toContain('app/views.py:10')
    expect(first.find('[data-testid="finding-overdue"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="finding-row-2"]').text()).toContain('(overridden)')
    expect(wrapper.get('[data-testid="finding-row-2"]').text()).toContain('#pci')
    // Read-only: no checkboxes.
    expect(wrapper.find('input[type="checkbox"]').exists()).toBe(false)
  })

  it('tells the sort order with aria-sort and asks for another on a header press', async () => {
    const wrapper = mountTable({ ordering: 'due_date' })
    const headers = wrapper.findAll('th[aria-sort]')
    const sorts = Object.fromEntries(
      headers.map((h) => [h.text().split(' ')[0], h.attributes('aria-sort')]),
    )
    expect(sorts).toMatchObject({ Severity: 'none', Due: 'ascending' })
    await wrapper.get('[data-testid="sort-severity"]').trigger('click')
    await wrapper.get('[data-testid="sort-last_seen_at"]').trigger('click')
    expect(wrapper.emitted('sort')).toEqual([['severity'], ['last_seen_at']])
  })

  it('offers selection when selectable', async () => {
    const wrapper = mountTable({ selectable: true, selected: new Set([2]), allSelected: false })
    const boxes = wrapper.findAll('[data-testid="finding-select"]')
    expect(boxes.map((b) => (b.element as HTMLInputElement).checked)).toEqual([false, true])
    await boxes[0]?.trigger('change')
    await wrapper.get('[data-testid="select-all"]').trigger('change')
    expect(wrapper.emitted('toggle')).toEqual([[1]])
    expect(wrapper.emitted('toggleAll')).toHaveLength(1)
  })
})

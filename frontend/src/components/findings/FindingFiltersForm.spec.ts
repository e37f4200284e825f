import { mount, RouterLinkStub } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { emptyFilters, type FindingFilters } from '@/composables/findingFilters'

import FindingFiltersForm from './FindingFiltersForm.vue'

function mountForm(filters: Partial<FindingFilters> = {}, props: Record<string, unknown> = {}) {
  return mount(FindingFiltersForm, {
    props: { filters: { ...emptyFilters(), ...filters }, ...props },
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
}

function lastChange(wrapper: ReturnType<typeof mountForm>): FindingFilters {
  const events = wrapper.emitted('change') as FindingFilters[][]
  return events[events.length - 1]![0]!
}

describe('FindingFiltersForm', () => {
  it('shows pressed chips and toggles a severity in rank order', async () => {
    const wrapper = mountForm({ severity: ['low'] })
    expect(wrapper.get('[data-testid="chip-severity-low"]').attributes('aria-pressed')).toBe('true')
    expect(wrapper.get('[data-testid="chip-severity-high"]').attributes('aria-pressed')).toBe(
      'false',
    )
    await wrapper.get('[data-testid="chip-severity-critical"]').trigger('click')
    expect(lastChange(wrapper).severity).toEqual(['critical', 'low'])
    await wrapper.get('[data-testid="chip-severity-low"]').trigger('click')
    expect(lastChange(wrapper).severity).toEqual([])
  })

  it('applies the text fields together on submit', async () => {
    const wrapper = mountForm()
    await wrapper.get('[data-testid="filter-search"]').setValue('  sql ')
    await wrapper.get('[data-testid="filter-cwe"]').setValue('CWE-79, 89, x')
    await wrapper.get('[data-testid="filter-cve"]').setValue('cve-2024-1')
    await wrapper.get('[data-testid="filter-tag"]').setValue('PCI')
    await wrapper.get('[data-testid="filter-path"]').setValue('src/')
    await wrapper.get('form').trigger('submit')
    expect(lastChange(wrapper)).toMatchObject({
      search: 'sql',
      cwe: [79, 89],
      cve: ['CVE-2024-1'],
      tag: ['pci'],
      path: 'src/',
    })
  })

  it('sets assignee and overdue from their selects', async () => {
    const wrapper = mountForm({}, { members: [{ id: 7, name: 'olga' }] })
    await wrapper.get('[data-testid="filter-assignee"]').setValue('me')
    expect(lastChange(wrapper).assignee).toEqual(['me'])
    await wrapper.get('[data-testid="filter-assignee"]').setValue('7')
    expect(lastChange(wrapper).assignee).toEqual([7])
    await wrapper.get('[data-testid="filter-overdue"]').setValue('true')
    expect(lastChange(wrapper).overdue).toBe(true)
  })

  it('hides the project filter on a project page and keeps the project when clearing', async () => {
    const wrapper = mountForm(
      { project: [3], status: ['new'] },
      { fixedProject: 3, projects: [{ id: 3, name: 'Shop' }] },
    )
    expect(wrapper.find('[data-testid="filter-project"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="filter-clear"]').text()).toContain('(1)')
    await wrapper.get('[data-testid="filter-clear"]').trigger('click')
    expect(lastChange(wrapper)).toEqual({ ...emptyFilters(), project: [3] })
  })

  it('names the scan a list is narrowed to and can drop it', async () => {
    const wrapper = mountForm({ scan: [12] })
    expect(wrapper.get('[data-testid="filter-scan"]').text()).toContain('#12')
    await wrapper.get('[data-testid="filter-scan"] button').trigger('click')
    expect(lastChange(wrapper).scan).toEqual([])
  })
})

import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { ApiError } from '@/api/client'

import BulkTriageBar from './BulkTriageBar.vue'

describe('BulkTriageBar', () => {
  it('sends the chosen status and severity with the note, and lists refused findings', async () => {
    const apply = vi.fn(async () => ({
      updated: 2,
      failed: [{ id: 9, errors: { status: ['A resolved finding cannot become confirmed.'] } }],
    }))
    const wrapper = mount(BulkTriageBar, { props: { count: 3, apply } })
    expect(wrapper.get('[data-testid="bulk-apply"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="bulk-status"]').setValue('confirmed')
    await wrapper.get('[data-testid="bulk-severity"]').setValue('scanner')
    await wrapper.get('[data-testid="bulk-note"]').setValue('checked by hand')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(apply).toHaveBeenCalledWith({
      status: 'confirmed',
      severity_override: null,
      note: 'checked by hand',
    })
    const result = wrapper.get('[data-testid="bulk-result"]').text()
    expect(result).toContain('Updated 2 findings.')
    expect(result).toContain('#9: A resolved finding cannot become confirmed.')
  })

  it('asks for a justification before accepting risks', async () => {
    const apply = vi.fn()
    const wrapper = mount(BulkTriageBar, { props: { count: 1, apply } })
    await wrapper.get('[data-testid="bulk-status"]').setValue('risk_accepted')
    expect(wrapper.get('[data-testid="bulk-apply"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="bulk-justification"]').setValue('Internal tool only')
    expect(wrapper.get('[data-testid="bulk-apply"]').attributes('disabled')).toBeUndefined()
  })

  it('shows the API error of a refused request', async () => {
    const apply = vi.fn(async () => {
      throw new ApiError(
        403,
        'Your role in this organization does not allow this.',
        'permission_denied',
      )
    })
    const wrapper = mount(BulkTriageBar, { props: { count: 1, apply } })
    await wrapper.get('[data-testid="bulk-status"]').setValue('resolved')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="bulk-error"]').text()).toBe(
      'Your role in this organization does not allow this.',
    )
  })
})

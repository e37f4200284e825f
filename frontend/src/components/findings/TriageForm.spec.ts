import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/client'
import type { FindingDetail } from '@/api/findings'
import { findingDetail } from '@/test/http'

import TriageForm from './TriageForm.vue'

const MEMBERS = [
  { id: 1, name: 'dana' },
  { id: 2, name: 'olga' },
]

function mountForm(overrides: Record<string, unknown> = {}, error: ApiError | null = null) {
  return mount(TriageForm, {
    props: {
      finding: findingDetail(4, overrides) as unknown as FindingDetail,
      members: MEMBERS,
      saving: false,
      error,
    },
  })
}

describe('TriageForm', () => {
  it('marks a false positive in one click', async () => {
    const wrapper = mountForm()
    await wrapper.get('[data-testid="quick-false_positive"]').trigger('click')
    expect(wrapper.emitted('save')).toEqual([[{ status: 'false_positive' }]])
    // A closed finding offers Reopen instead.
    expect(mountForm({ status: 'resolved' }).find('[data-testid="quick-reopened"]').exists()).toBe(
      true,
    )
  })

  it('sends only what changed', async () => {
    const wrapper = mountForm()
    expect(wrapper.get('[data-testid="triage-save"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="triage-severity"]').setValue('critical')
    await wrapper.get('[data-testid="triage-assignee"]').setValue('2')
    await wrapper.get('[data-testid="triage-tags"]').setValue('pci, web')
    await wrapper.get('[data-testid="triage-note"]').setValue('seen in prod')
    await wrapper.get('[data-testid="triage-form"]').trigger('submit')
    expect(wrapper.emitted('save')).toEqual([
      [
        {
          severity_override: 'critical',
          assignee_id: 2,
          tags: ['pci', 'web'],
          note: 'seen in prod',
        },
      ],
    ])
  })

  it('asks for a justification and an expiry when accepting the risk', async () => {
    const wrapper = mountForm()
    expect(wrapper.find('[data-testid="triage-risk"]').exists()).toBe(false)
    await wrapper.get('[data-testid="triage-status"]').setValue('risk_accepted')
    expect(wrapper.find('[data-testid="triage-risk"]').exists()).toBe(true)
    await wrapper.get('[data-testid="triage-justification"]').setValue('Behind the VPN.')
    await wrapper.get('[data-testid="triage-expires"]').setValue('2030-06-30')
    await wrapper.get('[data-testid="triage-form"]').trigger('submit')
    const [[changes]] = wrapper.emitted('save') as [[Record<string, unknown>]]
    expect(changes).toMatchObject({
      status: 'risk_accepted',
      risk_acceptance_justification: 'Behind the VPN.',
    })
    expect(String(changes.risk_acceptance_expires_at)).toMatch(/^2030-0[67]-\d\dT/)
  })

  it('shows the server errors on their fields, and the others above the form', () => {
    const error = new ApiError(400, 'Invalid input.', 'invalid', {
      risk_acceptance_justification: ['Say why.'],
      assignee_id: ['Not a member of this organization.'],
    })
    const wrapper = mountForm({ status: 'risk_accepted' }, error)
    expect(wrapper.get('[data-testid="field-error-risk_acceptance_justification"]').text()).toBe(
      'Say why.',
    )
    expect(wrapper.get('[data-testid="field-error-assignee_id"]').text()).toContain('Not a member')
    expect(wrapper.find('[data-testid="triage-error"]').exists()).toBe(false)

    const refused = new ApiError(400, 'A resolved finding cannot become confirmed.', 'invalid')
    expect(mountForm({}, refused).get('[data-testid="triage-error"]').text()).toContain(
      'cannot become',
    )
  })
})

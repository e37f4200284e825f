import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { computed, ref } from 'vue'

import { PROJECT_CONTEXT_KEY } from '@/composables/useProjectContext'
import { jsonResponse, mockFetch } from '@/test/http'

import ProjectTargetsTab from './ProjectTargetsTab.vue'

const TARGET = {
  id: 5,
  project: 2,
  name: 'app',
  asset_type: 'git_repository',
  identifier: '/srv/code/app',
  metadata: { local: true, branch: 'main' },
  description: '',
  is_active: true,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
}

function mountTab(canWrite: boolean) {
  return mount(ProjectTargetsTab, {
    global: {
      plugins: [createPinia()],
      provide: {
        [PROJECT_CONTEXT_KEY as symbol]: {
          project: ref(null),
          projectId: computed(() => 2),
          canWrite: computed(() => canWrite),
        },
      },
    },
  })
}

describe('ProjectTargetsTab', () => {
  it('shows an auditor the targets without any edit control', async () => {
    mockFetch(() => jsonResponse(200, { next: null, results: [TARGET] }))
    const wrapper = mountTab(false)
    await flushPromises()
    expect(wrapper.get('[data-testid="target-row-app"]').text()).toContain('/srv/code/app')
    expect(wrapper.get('[data-testid="target-row-app"]').text()).toContain('main')
    expect(wrapper.find('[data-testid="target-add"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="target-edit"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="target-delete"]').exists()).toBe(false)
    expect(wrapper.findAll('button')).toHaveLength(0)
  })

  it('offers a member to add, edit and delete, and says what to do when empty', async () => {
    mockFetch(() => jsonResponse(200, { next: null, results: [] }))
    const wrapper = mountTab(true)
    await flushPromises()
    expect(wrapper.get('[data-testid="targets-empty"]').text()).toContain(
      'Add what SecuLite should scan',
    )
    await wrapper.get('[data-testid="target-add"]').trigger('click')
    expect(wrapper.find('[data-testid="target-form"]').exists()).toBe(true)
  })

  it('asks for confirmation before deleting', async () => {
    mockFetch(() => jsonResponse(200, { next: null, results: [TARGET] }))
    const wrapper = mountTab(true)
    await flushPromises()
    await wrapper.get('[data-testid="target-delete"]').trigger('click')
    const dialog = wrapper.get('[data-testid="confirm-dialog"]')
    expect(dialog.text()).toContain('Delete the target app?')
    await wrapper.get('[data-testid="confirm-dialog-cancel"]').trigger('click')
    expect(wrapper.find('[data-testid="confirm-dialog"]').exists()).toBe(false)
  })
})

import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'

import { clearCookies, jsonResponse, mockFetch } from '@/test/http'

import TargetForm from './TargetForm.vue'

afterEach(clearCookies)

const TARGET = {
  id: 5,
  project: 2,
  name: 'app',
  asset_type: 'git_repository' as const,
  identifier: 'https://git.example.org/org/app.git',
  metadata: { branch: 'main' },
  description: '',
  is_active: true,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
}

describe('TargetForm', () => {
  it('shows the fields of the chosen type', async () => {
    const wrapper = mount(TargetForm, { props: { projectId: 2 } })
    expect(wrapper.find('[data-testid="target-branch"]').exists()).toBe(true)
    expect(wrapper.text()).toContain('Repository URL')

    await wrapper.get('[data-testid="target-git-local"]').setValue(true)
    expect(wrapper.text()).toContain('Absolute path on the server')

    await wrapper.get('[data-testid="target-type"]').setValue('docker_image')
    expect(wrapper.find('[data-testid="target-branch"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('Image reference')

    await wrapper.get('[data-testid="target-type"]').setValue('url')
    expect(wrapper.get('[data-testid="target-identifier"]').attributes('type')).toBe('url')
  })

  it("puts the server's validation messages on the fields they name", async () => {
    document.cookie = 'csrftoken=t; path=/'
    const fetchMock = mockFetch(() =>
      jsonResponse(400, {
        detail: 'Invalid input.',
        errors: {
          identifier: [
            "'localhost' is a loopback, link-local, private or reserved address (127.0.0.1).",
          ],
          metadata: ['branch: not a valid Git branch name.'],
        },
        error_code: 'invalid',
      }),
    )
    const wrapper = mount(TargetForm, { props: { projectId: 2 } })
    await wrapper.get('[data-testid="target-name"]').setValue('app')
    await wrapper.get('[data-testid="target-identifier"]').setValue('https://localhost/x.git')
    await wrapper.get('[data-testid="target-branch"]').setValue('..bad')
    await wrapper.get('form').trigger('submit')
    await flushPromises()

    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/projects/2/targets/')
    expect(JSON.parse(String(init.body))).toEqual({
      name: 'app',
      asset_type: 'git_repository',
      identifier: 'https://localhost/x.git',
      metadata: { branch: '..bad' },
      description: '',
      is_active: true,
    })

    const identifierError = wrapper.get('[data-testid="field-error-identifier"]')
    expect(identifierError.text()).toContain('loopback')
    // The message is tied to its input for screen readers.
    const input = wrapper.get('[data-testid="target-identifier"]')
    expect(input.attributes('aria-describedby')).toContain(identifierError.attributes('id'))
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(wrapper.get('[data-testid="field-error-metadata"]').text()).toBe(
      'branch: not a valid Git branch name.',
    )
    // Nothing is repeated in the form-level alert.
    expect(wrapper.find('[data-testid="target-form-error"]').exists()).toBe(false)
    expect(wrapper.emitted('saved')).toBeUndefined()
  })

  it('edits with PATCH, keeps other metadata and drops the branch when emptied', async () => {
    document.cookie = 'csrftoken=t; path=/'
    const fetchMock = mockFetch(() => jsonResponse(200, { ...TARGET, metadata: {} }))
    const wrapper = mount(TargetForm, {
      props: {
        projectId: 2,
        target: { ...TARGET, metadata: { branch: 'main', local: false, depth: 1 } },
      },
    })
    expect((wrapper.get('[data-testid="target-branch"]').element as HTMLInputElement).value).toBe(
      'main',
    )
    await wrapper.get('[data-testid="target-branch"]').setValue('')
    await wrapper.get('form').trigger('submit')
    await flushPromises()

    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/projects/2/targets/5/')
    expect(init.method).toBe('PATCH')
    expect(JSON.parse(String(init.body)).metadata).toEqual({ depth: 1 })
    expect(wrapper.emitted('saved')).toHaveLength(1)
  })
})

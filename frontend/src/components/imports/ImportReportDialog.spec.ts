import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { jsonResponse, mockFetchRoutes, page } from '@/test/http'

import ImportReportDialog from './ImportReportDialog.vue'

function mountDialog() {
  return mount(ImportReportDialog, {
    props: { projectId: 2 },
    global: { stubs: { RouterLink: RouterLinkStub } },
    attachTo: document.body,
  })
}

async function pickFile(wrapper: ReturnType<typeof mountDialog>, name = 'r.sarif') {
  const input = wrapper.get('[data-testid="import-file"]')
  const file = new File(['{}'], name, { type: 'application/json' })
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
}

describe('ImportReportDialog', () => {
  it('offers the project targets (not the import target) and every format, detect first', async () => {
    mockFetchRoutes([
      '/api/v1/projects/2/targets/',
      () =>
        jsonResponse(
          200,
          page([
            { id: 5, name: 'repo' },
            { id: 6, name: 'Imported reports' },
          ]),
        ),
    ])
    const wrapper = mountDialog()
    await flushPromises()
    const targets = wrapper.findAll('[data-testid="import-target"] option').map((o) => o.text())
    expect(targets).toEqual(['Imported reports (default)', 'repo'])
    const formats = wrapper.findAll('[data-testid="import-format"] option').map((o) => o.text())
    expect(formats[0]).toBe('Detect from the content')
    expect(formats).toContain('sarif')
    expect(formats).toContain('zap-baseline')
    expect(wrapper.get('[data-testid="import-submit"]').attributes('disabled')).toBeDefined()
    wrapper.unmount()
  })

  it('shows a refused upload on its field, in the API words', async () => {
    mockFetchRoutes(
      ['/api/v1/projects/2/targets/', () => jsonResponse(200, page([]))],
      [
        '/api/v1/projects/2/imports/',
        () =>
          jsonResponse(400, {
            detail: 'Invalid input.',
            errors: { format: ['"word" is not a valid choice.'] },
            error_code: 'invalid',
          }),
      ],
    )
    document.cookie = 'csrftoken=tok; path=/'
    const wrapper = mountDialog()
    await flushPromises()
    await pickFile(wrapper)
    await wrapper.get('[data-testid="import-form"]').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="field-error-format"]').text()).toContain('not a valid choice')
    expect(wrapper.emitted('imported')).toBeUndefined()
    wrapper.unmount()
  })

  it('follows the import to its end and links to its findings', async () => {
    mockFetchRoutes(
      ['/api/v1/projects/2/targets/', () => jsonResponse(200, page([]))],
      [
        '/api/v1/projects/2/imports/?',
        () =>
          jsonResponse(
            200,
            page([{ scan_id: 31, detected_format: 'bandit', requested_format: '' }]),
          ),
      ],
      [
        '/api/v1/projects/2/imports/',
        () => jsonResponse(202, { id: 31, status: 'queued', progress: 0, summary: null }),
      ],
      [
        '/api/v1/scans/31/',
        () =>
          jsonResponse(200, {
            id: 31,
            status: 'completed',
            progress: 100,
            summary: { total: 4, new: 1 },
            tool_results: [],
          }),
      ],
    )
    document.cookie = 'csrftoken=tok; path=/'
    const wrapper = mountDialog()
    await flushPromises()
    await pickFile(wrapper, 'bandit.json')
    await wrapper.get('[data-testid="import-form"]').trigger('submit')
    await flushPromises()
    await flushPromises()
    expect(wrapper.emitted('imported')).toEqual([[31]])
    expect(wrapper.get('[data-testid="import-status"]').text()).toBe(
      'Imported the bandit report: 4 findings (1 new).',
    )
    const link = wrapper.findAllComponents(RouterLinkStub)[0]!.props('to')
    expect(link).toEqual({ name: 'project-findings', params: { id: 2 }, query: { scan: '31' } })
    await wrapper.get('[data-testid="import-close"]').trigger('click')
    expect(wrapper.emitted('close')).toHaveLength(1)
    wrapper.unmount()
  })
})

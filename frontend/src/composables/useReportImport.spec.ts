import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'

import { jsonResponse, mockFetchRoutes } from '@/test/http'

import { useReportImport } from './useReportImport'

const QUEUED = {
  id: 31,
  project_id: 2,
  status: 'queued',
  phase: '',
  progress: 0,
  summary: null,
  tool_results: [],
  report_import: { id: 1, scan_id: 31, detected_format: '', requested_format: '' },
}

function scan(status: string, extra: Record<string, unknown> = {}) {
  return jsonResponse(200, { ...QUEUED, status, report_import: undefined, ...extra })
}

describe('useReportImport', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    document.cookie = 'csrftoken=tok; path=/'
  })
  afterEach(() => vi.useRealTimers())

  it('uploads multipart with the CSRF token, then follows the scan to completion', async () => {
    const answers = [scan('running', { phase: 'parsing', progress: 40 })]
    const fetchMock = mockFetchRoutes(
      [
        '/api/v1/projects/2/imports/?',
        () =>
          jsonResponse(200, {
            next: null,
            results: [{ scan_id: 31, detected_format: 'sarif', requested_format: '' }],
          }),
      ],
      ['/api/v1/projects/2/imports/', () => jsonResponse(202, QUEUED)],
      [
        '/api/v1/scans/31/',
        () =>
          answers.shift() ?? scan('completed', { progress: 100, summary: { total: 3, new: 3 } }),
      ],
    )
    const scope = effectScope()
    const job = scope.run(() => useReportImport({ intervalMs: 1000 }))!
    const file = new File(['{"version":"2.1.0","runs":[]}'], 'r.sarif', {
      type: 'application/json',
    })
    await job.start(2, { file, targetId: 5, format: '' })

    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/projects/2/imports/')
    expect(init.method).toBe('POST')
    const body = init.body as FormData
    expect(body).toBeInstanceOf(FormData)
    expect((body.get('file') as File).name).toBe('r.sarif')
    expect(body.get('target_id')).toBe('5')
    expect(body.has('format')).toBe(false)
    const headers = init.headers as Record<string, string>
    expect(headers['X-CSRFToken']).toBe('tok')
    expect(headers['Content-Type']).toBeUndefined()

    await flushPromises()
    expect(job.phase.value).toBe('processing')
    expect(job.scan.value?.phase).toBe('parsing')
    await vi.advanceTimersByTimeAsync(1000)
    await flushPromises()
    expect(job.phase.value).toBe('completed')
    expect(job.failure.value).toBeNull()
    expect(job.detectedFormat.value).toBe('sarif')
    scope.stop()
  })

  it("shows why an import failed, in the tool result's words", async () => {
    mockFetchRoutes(
      ['/api/v1/projects/2/imports/?', () => jsonResponse(200, { next: null, results: [] })],
      ['/api/v1/projects/2/imports/', () => jsonResponse(202, QUEUED)],
      [
        '/api/v1/scans/31/',
        () =>
          scan('failed', {
            error_message: '',
            tool_results: [{ id: 1, error_message: 'Import failed: unreadable report: bad JSON' }],
          }),
      ],
    )
    const scope = effectScope()
    const job = scope.run(() => useReportImport())!
    await job.start(2, { file: new File(['x'], 'x.json') })
    await flushPromises()
    expect(job.phase.value).toBe('failed')
    expect(job.failure.value).toBe('Import failed: unreadable report: bad JSON')
    scope.stop()
  })

  it('keeps a refused upload with its field errors', async () => {
    mockFetchRoutes([
      '/api/v1/projects/2/imports/',
      () =>
        jsonResponse(400, {
          detail: 'Invalid input.',
          errors: { target_id: ['No such target in this project.'] },
          error_code: 'invalid',
        }),
    ])
    const scope = effectScope()
    const job = scope.run(() => useReportImport())!
    await job.start(2, { file: new File(['x'], 'x.json'), targetId: 99 })
    expect(job.phase.value).toBe('failed')
    expect(job.uploadError.value?.errors.target_id).toEqual(['No such target in this project.'])
    job.reset()
    expect(job.phase.value).toBe('idle')
    expect(job.uploadError.value).toBeNull()
    scope.stop()
  })
})

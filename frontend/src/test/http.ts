import { vi } from 'vitest'

/** A `Response` with a JSON body, as the Django API sends it. */
export function jsonResponse(status: number, body: unknown, statusText = ''): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { 'Content-Type': 'application/json' },
  })
}

/**
 * Replace the global `fetch` with a mock answering each call with the next of `answers`
 * (the last one repeats). An `Error` answer makes the call reject, like a network failure.
 */
export function mockFetch(...answers: Array<(() => Response) | Error>) {
  let call = 0
  const fetchMock = vi.fn(async (): Promise<Response> => {
    const answer = answers[Math.min(call, answers.length - 1)]
    call += 1
    if (answer === undefined) throw new Error('mockFetch: no answer configured')
    if (answer instanceof Error) throw answer
    return answer()
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

export const HEALTHY = {
  database: 'ok',
  broker: 'ok',
  workers: 2,
  beat_last_seen: '2025-01-15T10:30:00+00:00',
}

/** What GET /api/v1/health/ sends with a 503 when the broker is down. */
export const BROKER_DOWN = {
  database: 'ok',
  broker: 'unavailable',
  workers: 0,
  beat_last_seen: '2025-01-15T10:30:00+00:00',
  detail: 'Unavailable: broker.',
  errors: { broker: ['The Celery broker did not answer.'] },
  error_code: 'service_unavailable',
}

/** Remove every cookie of the jsdom document (tests share one document). */
export function clearCookies(): void {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0]?.trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

/** The headers a mocked fetch call was given, as a plain record. */
export function headersOf(call: unknown[]): Record<string, string> {
  const init = call[1] as RequestInit | undefined
  return { ...((init?.headers as Record<string, string> | undefined) ?? {}) }
}

export const USER = {
  id: 1,
  username: 'dana',
  email: 'dana@example.org',
  first_name: '',
  last_name: '',
  is_staff: false,
  date_joined: '2025-01-01T00:00:00Z',
}

/** The URL of the n-th call of a mocked fetch. */
export function urlOf(fetchMock: { mock: { calls: unknown[][] } }, n: number): string {
  return String(fetchMock.mock.calls[n]?.[0])
}

type Route = [pattern: string | RegExp, answer: (url: string, init?: RequestInit) => Response]

/**
 * Replace `fetch` with a mock that answers by URL: the first route whose pattern matches the
 * URL (a string is a prefix of the path and query) answers; an unmatched URL fails the test.
 */
export function mockFetchRoutes(...routes: Route[]) {
  const fetchMock = vi.fn(async (input: unknown, init?: RequestInit): Promise<Response> => {
    const url = String(input)
    for (const [pattern, answer] of routes) {
      const hit = typeof pattern === 'string' ? url.startsWith(pattern) : pattern.test(url)
      if (hit) return answer(url, init)
    }
    throw new Error(`mockFetchRoutes: no route for ${url}`)
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

/** A paginated list body. */
export function page<T>(results: T[], next: string | null = null) {
  return { next, previous: null, results }
}

/** A finding as the list sends it. */
export function findingRow(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    project_id: 2,
    target_id: 5,
    tool_id: 'bandit',
    title: `Finding ${id}`,
    severity: 'high',
    scanner_severity: 'high',
    severity_override: null,
    status: 'new',
    rule_id: 'B101',
    cwe: 89,
    cve: '',
    file_path: 'app/views.py',
    line_start: 10,
    line_end: 10,
    url: '',
    package_name: '',
    package_version: '',
    assignee: null,
    due_date: '2025-02-01',
    overdue: false,
    tags: [],
    first_seen_at: '2025-01-01T00:00:00Z',
    last_seen_at: '2025-01-02T00:00:00Z',
    resolved_at: null,
    first_seen_scan_id: 7,
    last_seen_scan_id: 8,
    resolved_at_scan_id: null,
    ...overrides,
  }
}

/** A finding as the detail sends it. */
export function findingDetail(id: number, overrides: Record<string, unknown> = {}) {
  return {
    ...findingRow(id),
    project_name: 'Shop',
    target_name: 'repo',
    tool_result_id: 3,
    description: 'Bad thing.',
    confidence: 'high',
    epss: null,
    parameter: '',
    fixed_version: '',
    code_snippet: 'query = "SELECT" + name',
    remediation: '',
    references: [],
    extra: {},
    fingerprint: 'abc',
    risk_accepted_by: null,
    risk_acceptance_justification: '',
    risk_acceptance_expires_at: null,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    history: [],
    comments: [],
    ...overrides,
  }
}

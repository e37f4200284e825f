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

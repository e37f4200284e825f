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

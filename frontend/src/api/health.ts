import { ApiError, apiGet } from './client'

/** GET /api/v1/health/: the same fields whether the platform is healthy (200) or not (503). */
export type Health = {
  database: string
  broker: string
  workers: number
  beat_last_seen: string | null
}

/** The parts whose failure makes the API answer 503, in display order. */
export const HEALTH_PARTS = ['database', 'broker'] as const
export type HealthPart = (typeof HEALTH_PARTS)[number]

/** Read a `Health` out of a response body, or `null` if the body is not one. */
export function toHealth(body: unknown): Health | null {
  if (typeof body !== 'object' || body === null) return null
  const b = body as Record<string, unknown>
  if (typeof b.database !== 'string' || typeof b.broker !== 'string') return null
  if (typeof b.workers !== 'number') return null
  return {
    database: b.database,
    broker: b.broker,
    workers: b.workers,
    beat_last_seen: typeof b.beat_last_seen === 'string' ? b.beat_last_seen : null,
  }
}

/**
 * The platform's health. A 503 whose body carries the health fields is *data* (the database
 * or the broker is down) and is returned like a 200; any other failure throws an `ApiError`.
 */
export async function getHealth(options: { signal?: AbortSignal } = {}): Promise<Health> {
  let body: unknown
  try {
    body = await apiGet<unknown>('/health/', options)
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) {
      const health = toHealth(error.body)
      if (health) return health
    }
    throw error
  }
  const health = toHealth(body)
  if (!health) {
    throw new ApiError(200, 'The server sent an unexpected health report.', 'invalid_response')
  }
  return health
}

/**
 * A tiny fetch wrapper for SecuLite's REST API.
 *
 * Every failure becomes an `ApiError` in the API's one error shape:
 * `{"detail": string, "errors": {field: string[]}, "error_code": string}`.
 * Loading and error *state* belong to the stores; this module only talks HTTP.
 */

export const API_BASE = '/api/v1'

export type FieldErrors = Record<string, string[]>

/** The error body every SecuLite API endpoint sends on failure. */
export interface ApiErrorBody {
  detail: string
  errors: FieldErrors
  error_code: string
}

export class ApiError extends Error {
  /** HTTP status, or 0 when no response arrived (network failure, aborted request). */
  readonly status: number
  readonly detail: string
  readonly errors: FieldErrors
  readonly errorCode: string
  /** The parsed response body as received (`undefined` if there was none or it was not JSON). */
  readonly body: unknown

  constructor(
    status: number,
    detail: string,
    errorCode: string,
    errors: FieldErrors = {},
    body?: unknown,
  ) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
    this.errorCode = errorCode
    this.errors = errors
    this.body = body
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Keep only `{field: [string, ...]}` entries; a lone string becomes a one-item list. */
function parseFieldErrors(value: unknown): FieldErrors {
  if (!isRecord(value)) return {}
  const out: FieldErrors = {}
  for (const [field, messages] of Object.entries(value)) {
    if (typeof messages === 'string') {
      out[field] = [messages]
    } else if (Array.isArray(messages)) {
      const strings = messages.filter((m): m is string => typeof m === 'string')
      if (strings.length) out[field] = strings
    }
  }
  return out
}

/**
 * Build an `ApiError` from a failed response's status and (already parsed) body.
 * Bodies that are not in the API's shape (a proxy's HTML error page, say) still give
 * a usable message.
 */
export function parseApiError(status: number, body: unknown, statusText = ''): ApiError {
  const fallback = statusText
    ? `Request failed: ${status} ${statusText}.`
    : `Request failed with status ${status}.`
  if (!isRecord(body)) {
    return new ApiError(status, fallback, `http_${status}`, {}, body)
  }
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : fallback
  const errorCode =
    typeof body.error_code === 'string' && body.error_code ? body.error_code : `http_${status}`
  return new ApiError(status, detail, errorCode, parseFieldErrors(body.errors), body)
}

/** Turn anything thrown into an `ApiError` so stores hold one error type. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new ApiError(0, 'The request was cancelled.', 'aborted')
  }
  if (error instanceof TypeError) {
    // fetch() rejects with a TypeError when the server cannot be reached at all.
    return new ApiError(0, 'Could not reach the SecuLite server.', 'network_error')
  }
  const message = error instanceof Error && error.message ? error.message : String(error)
  return new ApiError(0, message, 'client_error')
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text()
  if (!text) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export function apiUrl(path: string): string {
  return `${API_BASE}${path.startsWith('/') ? path : `/${path}`}`
}

export interface RequestOptions {
  signal?: AbortSignal
}

/**
 * GET `path` (relative to `/api/v1`) and return its JSON body typed as `T`.
 * Throws an `ApiError` for any non-2xx status and for network failures.
 * The caller is trusted about `T`; endpoints that need it validate the body themselves.
 */
export async function apiGet<T>(path: string, options: RequestOptions = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(apiUrl(path), {
      method: 'GET',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: options.signal,
    })
  } catch (error) {
    throw toApiError(error)
  }
  const body = await readJson(response)
  if (!response.ok) {
    throw parseApiError(response.status, body, response.statusText)
  }
  return body as T
}

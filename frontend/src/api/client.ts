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

export type QueryValue = string | number | boolean | null | undefined | Array<string | number>
export type Query = Record<string, QueryValue>

/** `?a=1&b=x,y` from a record; empty values are left out, lists are comma-separated. */
export function toQueryString(query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) {
      if (value.length) params.set(key, value.join(','))
    } else {
      params.set(key, String(value))
    }
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

// --- CSRF -------------------------------------------------------------------------------------
// Django keeps the session in an HttpOnly cookie and checks `X-CSRFToken` against the
// `csrftoken` cookie on every unsafe request. The token is read from the cookie on *every*
// request and never cached: login rotates it, and a cached copy would be refused.

export const CSRF_COOKIE = 'csrftoken'
export const CSRF_HEADER = 'X-CSRFToken'
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

let csrfFetch: Promise<void> | null = null

/** GET /auth/csrf/ (which sets the cookie); concurrent callers share one request. */
async function fetchCsrfCookie(): Promise<void> {
  csrfFetch ??= (async () => {
    try {
      const response = await fetch(apiUrl('/auth/csrf/'), {
        method: 'GET',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      })
      if (!response.ok) throw parseApiError(response.status, await readJson(response))
    } catch (error) {
      throw toApiError(error)
    } finally {
      csrfFetch = null
    }
  })()
  return csrfFetch
}

/** The current CSRF token, asking the server for one first when the cookie is missing. */
export async function ensureCsrfToken({ refresh = false } = {}): Promise<string> {
  let token = refresh ? null : readCookie(CSRF_COOKIE)
  if (!token) {
    await fetchCsrfCookie()
    token = readCookie(CSRF_COOKIE)
  }
  if (!token) {
    throw new ApiError(
      0,
      'The browser did not keep the security cookie; allow cookies for this site.',
      'csrf_cookie_missing',
    )
  }
  return token
}

function isCsrfFailure(error: ApiError): boolean {
  return error.status === 403 && error.detail.startsWith('CSRF Failed')
}

// --- Session expiry ---------------------------------------------------------------------------

type UnauthorizedHandler = (error: ApiError) => void
let onUnauthorized: UnauthorizedHandler | null = null

/** Called with every 401 answer (the app uses it to send an expired session to sign-in). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler
}

// --- Requests ---------------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface ApiRequestOptions extends RequestOptions {
  query?: Query
  /** Sent as JSON; a `FormData` goes as multipart/form-data (the browser sets the boundary). */
  body?: unknown
}

async function send(
  method: HttpMethod,
  path: string,
  options: ApiRequestOptions,
  csrfToken: string | null,
): Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  const multipart = typeof FormData !== 'undefined' && options.body instanceof FormData
  if (options.body !== undefined && !multipart) headers['Content-Type'] = 'application/json'
  if (csrfToken) headers[CSRF_HEADER] = csrfToken
  let payload: BodyInit | undefined
  if (multipart) payload = options.body as FormData
  else if (options.body !== undefined) payload = JSON.stringify(options.body)
  let response: Response
  try {
    response = await fetch(`${apiUrl(path)}${toQueryString(options.query)}`, {
      method,
      credentials: 'same-origin',
      headers,
      body: payload,
      signal: options.signal,
    })
  } catch (error) {
    throw toApiError(error)
  }
  const body = await readJson(response)
  if (!response.ok) {
    const error = parseApiError(response.status, body, response.statusText)
    if (error.status === 401) onUnauthorized?.(error)
    throw error
  }
  return body
}

/**
 * Send `method` to `path` (relative to `/api/v1`) and return the JSON body typed as `T`
 * (`undefined` for an empty 204). Unsafe methods carry the CSRF token; a request refused
 * for a stale token is retried once with a fresh one.
 */
export async function apiRequest<T>(
  method: HttpMethod,
  path: string,
  options: ApiRequestOptions = {},
): Promise<T> {
  if (!UNSAFE_METHODS.has(method)) {
    return (await send(method, path, options, null)) as T
  }
  const token = await ensureCsrfToken()
  try {
    return (await send(method, path, options, token)) as T
  } catch (error) {
    if (error instanceof ApiError && isCsrfFailure(error)) {
      const fresh = await ensureCsrfToken({ refresh: true })
      return (await send(method, path, options, fresh)) as T
    }
    throw error
  }
}

/**
 * GET `path` (relative to `/api/v1`) and return its JSON body typed as `T`.
 * Throws an `ApiError` for any non-2xx status and for network failures.
 * The caller is trusted about `T`; endpoints that need it validate the body themselves.
 */
export async function apiGet<T>(path: string, options: ApiRequestOptions = {}): Promise<T> {
  return apiRequest<T>('GET', path, options)
}

export function apiPost<T>(path: string, body?: unknown, options: RequestOptions = {}) {
  return apiRequest<T>('POST', path, { ...options, body })
}

export function apiPatch<T>(path: string, body: unknown, options: RequestOptions = {}) {
  return apiRequest<T>('PATCH', path, { ...options, body })
}

export function apiPut<T>(path: string, body: unknown, options: RequestOptions = {}) {
  return apiRequest<T>('PUT', path, { ...options, body })
}

export function apiDelete(path: string, options: RequestOptions = {}): Promise<void> {
  return apiRequest<void>('DELETE', path, options)
}

/**
 * Types generated from the backend's OpenAPI schema (`npm run gen:api` writes schema.d.ts),
 * plus `endpoint()`, which only accepts paths the schema has: a path the backend drops or
 * renames stops the type-check instead of failing at run time.
 */
import type { components, paths } from './schema'

export type Schemas = components['schemas']

/** The list envelope of every paginated endpoint (no total count: see core/pagination.py). */
export interface Page<T> {
  next?: string | null
  previous?: string | null
  results: T[]
}

type StripPrefix<P> = P extends `/api/v1${infer Rest}` ? Rest : never

/** Every API path relative to /api/v1, with `{name}` placeholders, e.g. `/projects/{id}/`. */
export type Endpoint = StripPrefix<keyof paths>

export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParams<Rest>
  : never

type ParamArgs<P extends string> = [PathParams<P>] extends [never]
  ? []
  : [params: Record<PathParams<P>, string | number>]

/** Fill the placeholders of a schema path: `endpoint('/projects/{id}/', { id: 3 })`. */
export function endpoint<P extends Endpoint>(template: P, ...args: ParamArgs<P>): string {
  const params = (args[0] ?? {}) as Record<string, string | number>
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name]
    if (value === undefined || value === '') throw new Error(`endpoint(): missing {${name}}`)
    return encodeURIComponent(String(value))
  })
}

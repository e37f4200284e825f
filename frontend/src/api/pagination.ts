import { apiGet, type Query, type RequestOptions } from './client'
import type { Page } from './types'

/** Largest page the API serves (apps/core/pagination.py). */
export const MAX_PAGE_SIZE = 500
/** A safety stop for "load everything" on lists that are small by nature. */
const MAX_PAGES = 20

/** Every row of a small list (tools, targets, organizations...), following `next`. */
export async function listAll<T>(
  path: string,
  query: Query = {},
  options: RequestOptions = {},
): Promise<T[]> {
  const rows: T[] = []
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const body = await apiGet<Page<T>>(path, {
      ...options,
      query: { ...query, page, page_size: MAX_PAGE_SIZE },
    })
    rows.push(...body.results)
    if (!body.next) break
  }
  return rows
}

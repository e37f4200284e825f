/**
 * The findings list's filters as they live in the URL (shareable links), and their translation
 * to the API's query parameters. Pure functions: the list view binds them to the route.
 *
 * URL parameters (lists are comma-separated):
 *   project, target, scan   ids                 severity, status   enum values
 *   tool, cve, tag          words               cwe                numbers (CWE-79 accepted)
 *   assignee                ids or `me`         path               a path prefix
 *   overdue                 true | false        search             title, path, rule
 *   ordering                one of ORDERINGS    cursor, size       the page
 */
import type { LocationQuery, LocationQueryRaw } from 'vue-router'

import {
  DEFAULT_ORDERING,
  FINDING_STATUSES,
  ORDERINGS,
  SEVERITIES,
  type FindingApiQuery,
  type FindingStatus,
  type Ordering,
  type Severity,
} from '@/api/findings'

export type Assignee = number | 'me'

export interface FindingFilters {
  project: number[]
  target: number[]
  scan: number[]
  tool: string[]
  severity: Severity[]
  status: FindingStatus[]
  cwe: number[]
  cve: string[]
  path: string
  assignee: Assignee[]
  tag: string[]
  overdue: boolean | null
  search: string
}

export const PAGE_SIZES = [25, 50, 100] as const
export const DEFAULT_PAGE_SIZE = 50

/** The URL's list parameters, in the order they are written. */
const LIST_KEYS = [
  'project',
  'target',
  'scan',
  'tool',
  'severity',
  'status',
  'cwe',
  'cve',
  'assignee',
  'tag',
] as const

export function emptyFilters(): FindingFilters {
  return {
    project: [],
    target: [],
    scan: [],
    tool: [],
    severity: [],
    status: [],
    cwe: [],
    cve: [],
    path: '',
    assignee: [],
    tag: [],
    overdue: null,
    search: '',
  }
}

function text(value: LocationQuery[string] | undefined): string {
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first : ''
}

/** `a,b, c` (or repeated parameters) -> trimmed, non-empty, unique words. */
function words(value: LocationQuery[string] | undefined): string[] {
  const raw = Array.isArray(value) ? value : [value]
  const out: string[] = []
  for (const item of raw) {
    if (typeof item !== 'string') continue
    for (const part of item.split(',')) {
      const word = part.trim()
      if (word && !out.includes(word)) out.push(word)
    }
  }
  return out
}

function ids(value: LocationQuery[string] | undefined): number[] {
  return words(value)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
}

function oneOf<T extends string>(allowed: readonly T[], value: LocationQuery[string] | undefined) {
  return words(value).filter((w): w is T => (allowed as readonly string[]).includes(w))
}

/** Read the filters from the route's query; values that make no sense are dropped. */
export function parseFindingFilters(query: LocationQuery): FindingFilters {
  const overdue = text(query.overdue)
  const severity = oneOf(SEVERITIES, query.severity)
  return {
    project: ids(query.project),
    target: ids(query.target),
    scan: ids(query.scan),
    tool: words(query.tool),
    // Kept in rank order whatever the URL's order, so equal filters give equal URLs.
    severity: SEVERITIES.filter((s) => severity.includes(s)),
    status: oneOf(FINDING_STATUSES, query.status),
    cwe: words(query.cwe)
      .map((w) => Number(w.replace(/^CWE-/i, '')))
      .filter((n) => Number.isInteger(n) && n > 0),
    cve: words(query.cve).map((w) => w.toUpperCase()),
    path: text(query.path).trim(),
    assignee: words(query.assignee)
      .map((w): Assignee | null => (w === 'me' ? 'me' : Number(w) > 0 ? Number(w) : null))
      .filter((a): a is Assignee => a !== null && (a === 'me' || Number.isInteger(a))),
    tag: words(query.tag).map((w) => w.toLowerCase()),
    overdue: overdue === 'true' ? true : overdue === 'false' ? false : null,
    search: text(query.search).trim(),
  }
}

export function parseOrdering(query: LocationQuery): Ordering {
  const value = text(query.ordering)
  return (ORDERINGS as readonly string[]).includes(value) ? (value as Ordering) : DEFAULT_ORDERING
}

export function parsePageSize(query: LocationQuery): number {
  const value = Number(text(query.size))
  return (PAGE_SIZES as readonly number[]).includes(value) ? value : DEFAULT_PAGE_SIZE
}

/** The filters as URL parameters: empty ones are left out, lists comma-joined. */
export function filtersToQuery(filters: FindingFilters): LocationQueryRaw {
  const query: LocationQueryRaw = {}
  for (const key of LIST_KEYS) {
    const list = filters[key] as Array<string | number>
    if (list.length) query[key] = list.join(',')
  }
  if (filters.path) query.path = filters.path
  if (filters.overdue !== null) query.overdue = String(filters.overdue)
  if (filters.search) query.search = filters.search
  return query
}

/** How many filters are set (the "Clear filters" button shows when any is). */
export function activeFilterCount(filters: FindingFilters): number {
  return Object.values(filters).filter((v) =>
    Array.isArray(v) ? v.length > 0 : v !== null && v !== '',
  ).length
}

/** The filters as the API's query parameters; `me` becomes the signed-in user's id. */
export function filtersToApi(filters: FindingFilters, meId?: number | null): FindingApiQuery {
  const assignees = filters.assignee
    .map((a) => (a === 'me' ? (meId ?? null) : a))
    .filter((a): a is number => a !== null)
  const query: FindingApiQuery = {}
  if (filters.project.length) query.project_id = filters.project
  if (filters.target.length) query.target_id = filters.target
  if (filters.scan.length) query.scan_id = filters.scan
  if (filters.tool.length) query.tool_id = filters.tool
  if (filters.severity.length) query.severity = filters.severity
  if (filters.status.length) query.status = filters.status
  if (filters.cwe.length) query.cwe_id = filters.cwe
  if (filters.cve.length) query.cve_id = filters.cve
  if (filters.path) query.path = filters.path
  if (assignees.length) query.assigned_to_user_id = assignees
  if (filters.tag.length) query.tag = filters.tag
  if (filters.overdue !== null) query.overdue = filters.overdue
  if (filters.search) query.search = filters.search
  return query
}

/** Add or remove `value` from a list filter (a chip was pressed). */
export function toggleValue<T>(list: readonly T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value]
}

/** The next ordering when a column header is pressed: descending first, then ascending. */
export function nextOrdering(
  current: Ordering,
  column: 'severity' | 'first_seen_at' | 'last_seen_at' | 'due_date',
): Ordering {
  // Due dates read best soonest first; the others most severe / most recent first.
  const first = (column === 'due_date' ? column : `-${column}`) as Ordering
  const second = (column === 'due_date' ? `-${column}` : column) as Ordering
  return current === first ? second : first
}

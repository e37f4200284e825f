import { describe, expect, it } from 'vitest'

import {
  activeFilterCount,
  emptyFilters,
  filtersToApi,
  filtersToQuery,
  nextOrdering,
  parseFindingFilters,
  parseOrdering,
  parsePageSize,
  toggleValue,
} from './findingFilters'

describe('finding filters in the URL', () => {
  it('reads every filter, dropping values that make no sense', () => {
    const filters = parseFindingFilters({
      project: '3,x,-1,4',
      target: '9',
      scan: '12',
      tool: 'bandit, semgrep',
      severity: 'low,critical,bogus',
      status: 'new,false_positive,nope',
      cwe: 'CWE-79,89,abc',
      cve: 'cve-2024-1234',
      path: ' src/api/ ',
      assignee: 'me,7,zero',
      tag: 'PCI,web',
      overdue: 'true',
      search: ' sql ',
    })
    expect(filters).toEqual({
      project: [3, 4],
      target: [9],
      scan: [12],
      tool: ['bandit', 'semgrep'],
      // Rank order, whatever the URL's order.
      severity: ['critical', 'low'],
      status: ['new', 'false_positive'],
      cwe: [79, 89],
      cve: ['CVE-2024-1234'],
      path: 'src/api/',
      assignee: ['me', 7],
      tag: ['pci', 'web'],
      overdue: true,
      search: 'sql',
    })
  })

  it('writes only the filters that are set, and reads back what it wrote', () => {
    const filters = { ...emptyFilters(), severity: ['high' as const], overdue: false, search: 'x' }
    const query = filtersToQuery(filters)
    expect(query).toEqual({ severity: 'high', overdue: 'false', search: 'x' })
    expect(parseFindingFilters(query as Record<string, string>)).toEqual(filters)
    expect(filtersToQuery(emptyFilters())).toEqual({})
  })

  it('translates to the API names and resolves "me"', () => {
    const filters = parseFindingFilters({
      project: '3',
      scan: '5',
      tool: 'bandit',
      cwe: '79',
      cve: 'CVE-2024-1',
      assignee: 'me,4',
      overdue: 'false',
    })
    expect(filtersToApi(filters, 42)).toEqual({
      project_id: [3],
      scan_id: [5],
      tool_id: ['bandit'],
      cwe_id: [79],
      cve_id: ['CVE-2024-1'],
      assigned_to_user_id: [42, 4],
      overdue: false,
    })
    // Without a signed-in user "me" is left out rather than sent as nothing.
    expect(filtersToApi(parseFindingFilters({ assignee: 'me' }), null)).toEqual({})
  })

  it('counts the active filters', () => {
    expect(activeFilterCount(emptyFilters())).toBe(0)
    expect(activeFilterCount(parseFindingFilters({ severity: 'high', overdue: 'false' }))).toBe(2)
  })

  it('reads the ordering and the page size, with defaults', () => {
    expect(parseOrdering({ ordering: 'due_date' })).toBe('due_date')
    expect(parseOrdering({ ordering: 'title' })).toBe('-severity')
    expect(parsePageSize({ size: '100' })).toBe(100)
    expect(parsePageSize({ size: '7' })).toBe(50)
  })

  it('sorts descending first, then ascending; due dates soonest first', () => {
    expect(nextOrdering('-severity', 'severity')).toBe('severity')
    expect(nextOrdering('severity', 'severity')).toBe('-severity')
    expect(nextOrdering('-severity', 'last_seen_at')).toBe('-last_seen_at')
    expect(nextOrdering('-severity', 'due_date')).toBe('due_date')
    expect(nextOrdering('due_date', 'due_date')).toBe('-due_date')
  })

  it('toggles a chip value', () => {
    expect(toggleValue(['a'], 'b')).toEqual(['a', 'b'])
    expect(toggleValue(['a', 'b'], 'a')).toEqual(['b'])
  })
})

import { describe, expect, it } from 'vitest'

import { cursorOf, cveUrl, cweUrl, exportUrl } from './findings'

describe('findings API helpers', () => {
  it('takes the cursor out of a next or previous link', () => {
    expect(cursorOf('http://h/api/v1/findings/?cursor=eyJv&severity=high')).toBe('eyJv')
    expect(cursorOf('http://h/api/v1/findings/?severity=high')).toBeNull()
    expect(cursorOf(null)).toBeNull()
  })

  it('builds export links for the current filter, all projects or one scan', () => {
    expect(exportUrl('csv', { severity: ['high', 'critical'], ordering: '-severity' })).toBe(
      '/api/v1/findings/export/?severity=high%2Ccritical&ordering=-severity&format=csv',
    )
    expect(exportUrl('sarif', {}, { scanId: 9 })).toBe('/api/v1/scans/9/export/?format=sarif')
  })

  it('links CWE and CVE ids to MITRE and the NVD', () => {
    expect(cweUrl(79)).toBe('https://cwe.mitre.org/data/definitions/79.html')
    expect(cveUrl('cve-2024-12345')).toBe('https://nvd.nist.gov/vuln/detail/CVE-2024-12345')
    expect(cveUrl('GHSA-xxxx')).toBeNull()
  })
})

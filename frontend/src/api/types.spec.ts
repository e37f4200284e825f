import { describe, expect, it } from 'vitest'

import { endpoint } from './types'

describe('endpoint', () => {
  it('fills the placeholders of a schema path', () => {
    expect(endpoint('/projects/{id}/', { id: 3 })).toBe('/projects/3/')
    expect(endpoint('/scans/{id}/toolresults/{result_pk}/raw/', { id: 9, result_pk: 12 })).toBe(
      '/scans/9/toolresults/12/raw/',
    )
    expect(endpoint('/tooldefinitions/{tool_id}/', { tool_id: 'a/b' })).toBe(
      '/tooldefinitions/a%2Fb/',
    )
    expect(endpoint('/auth/user/')).toBe('/auth/user/')
  })

  it('refuses a missing value', () => {
    expect(() => endpoint('/projects/{id}/', { id: '' })).toThrow('missing {id}')
  })

  it('only accepts paths the OpenAPI schema has (checked by vue-tsc)', () => {
    // @ts-expect-error: not a path of the API
    expect(endpoint('/no-such-endpoint/')).toBe('/no-such-endpoint/')
    // @ts-expect-error: the path has an {id} to fill
    expect(() => endpoint('/projects/{id}/')).toThrow()
  })
})

import { describe, expect, it } from 'vitest'

import { ApiError, parseApiError } from '@/api/client'

import { useForm } from './useForm'

describe('useForm', () => {
  it('puts each server message on the field it names, the rest in formError', async () => {
    const form = useForm(['identifier', 'metadata'])
    const result = await form.submit(() =>
      Promise.reject(
        parseApiError(400, {
          detail: 'Invalid input.',
          errors: {
            identifier: ['Whitespace is not allowed.'],
            'metadata.branch': ['Bad.'],
            name: ['Taken.'],
          },
          error_code: 'invalid',
        }),
      ),
    )
    expect(result).toBeUndefined()
    expect(form.errorsFor('identifier')).toEqual(['Whitespace is not allowed.'])
    expect(form.errorsFor('metadata')).toEqual(['Bad.'])
    expect(form.formError.value).toBe('Name: Taken.')
  })

  it('shows the detail when no field is named, and sentences as they are', async () => {
    const form = useForm(['username'])
    await form.submit(() =>
      Promise.reject(
        new ApiError(429, 'Request was throttled. Expected available in 40 seconds.', 'throttled'),
      ),
    )
    expect(form.formError.value).toBe('Request was throttled. Expected available in 40 seconds.')

    await form.submit(() =>
      Promise.reject(
        parseApiError(400, {
          detail: 'The reset link is invalid or has expired.',
          errors: { token: ['The reset link is invalid or has expired.'] },
          error_code: 'invalid',
        }),
      ),
    )
    expect(form.formError.value).toBe('The reset link is invalid or has expired.')
  })

  it('is submitting only while the action runs, and clears old errors', async () => {
    const form = useForm()
    await form.submit(() =>
      Promise.reject(new ApiError(500, 'Internal server error.', 'server_error')),
    )
    let during = false
    const value = await form.submit(async () => {
      during = form.submitting.value
      return 42
    })
    expect(during).toBe(true)
    expect(value).toBe(42)
    expect(form.submitting.value).toBe(false)
    expect(form.error.value).toBeNull()
  })
})

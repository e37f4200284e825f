import { computed, ref, shallowRef } from 'vue'

import { ApiError, toApiError, type FieldErrors } from '@/api/client'

/**
 * Submission state of a form and the server's validation errors: `fieldErrors[name]` for the
 * field of that name (the API's `errors` keys are field names, nested ones dotted), and
 * `formError` for everything that belongs to no field shown (the `detail` sentence).
 */
export function useForm(knownFields: readonly string[] | (() => readonly string[]) = []) {
  const known = () => (typeof knownFields === 'function' ? knownFields() : knownFields)
  const submitting = ref(false)
  const error = shallowRef<ApiError | null>(null)

  const fieldErrors = computed<FieldErrors>(() => error.value?.errors ?? {})

  /** Messages no field on the form will show. */
  const formError = computed<string | null>(() => {
    const e = error.value
    if (!e) return null
    const unplaced = Object.entries(e.errors)
      .filter(([field]) => !known().some((name) => fieldMatches(field, name)))
      .flatMap(([field, messages]) =>
        SENTENCE_FIELDS.includes(field)
          ? messages
          : messages.map((m) => `${humanize(field)}: ${m}`),
      )
    if (unplaced.length) return unplaced.join(' ')
    return Object.keys(e.errors).length ? null : e.detail
  })

  function errorsFor(field: string): string[] {
    return Object.entries(fieldErrors.value)
      .filter(([key]) => fieldMatches(key, field))
      .flatMap(([, messages]) => messages)
  }

  /** Run `action`; an ApiError is kept for display and `undefined` returned. */
  async function submit<T>(action: () => Promise<T>): Promise<T | undefined> {
    submitting.value = true
    error.value = null
    try {
      return await action()
    } catch (e) {
      error.value = toApiError(e)
      return undefined
    } finally {
      submitting.value = false
    }
  }

  function reset(): void {
    error.value = null
  }

  return { submitting, error, fieldErrors, formError, errorsFor, submit, reset }
}

/** Keys whose messages read as whole sentences without the field's name. */
const SENTENCE_FIELDS = ['non_field_errors', 'detail', 'token']

function humanize(field: string): string {
  const text = field.replace(/[._]/g, ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** `metadata` matches `metadata` and `metadata.branch`. */
function fieldMatches(key: string, field: string): boolean {
  return key === field || key.startsWith(`${field}.`)
}

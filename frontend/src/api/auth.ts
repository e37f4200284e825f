/** Accounts: session sign-in and sign-out, registration, password reset and change. */
import { apiGet, apiPost, ensureCsrfToken, type RequestOptions } from './client'
import { endpoint, type Schemas } from './types'

export type User = Schemas['User']
export type LoginInput = Schemas['Login']
export type RegistrationInput = Schemas['Registration']
export type PasswordResetConfirmInput = Schemas['PasswordResetConfirm']
export type PasswordChangeInput = Schemas['PasswordChange']

/** Make sure the `csrftoken` cookie exists (GET /auth/csrf/ sets it). */
export function fetchCsrfToken(): Promise<string> {
  return ensureCsrfToken()
}

/** The signed-in user; throws an ApiError with status 401 when there is no session. */
export function getCurrentUser(options: RequestOptions = {}): Promise<User> {
  return apiGet<User>(endpoint('/auth/user/'), options)
}

/**
 * Sign in with a session cookie. Django rotates the CSRF token on login: the client reads the
 * cookie afresh on every request, so the next write carries the new token.
 */
export async function login(input: LoginInput): Promise<User> {
  const answer = await apiPost<Schemas['Token']>(endpoint('/auth/login/'), input)
  // The schema types `user` as a free-form object; it is a User (TokenSerializer.get_user).
  return answer.user as unknown as User
}

export function logout(): Promise<void> {
  return apiPost<void>(endpoint('/auth/logout/'))
}

export function register(input: RegistrationInput): Promise<User> {
  return apiPost<User>(endpoint('/auth/registration/'), input)
}

/** Always answers with the same sentence, whether the address exists or not. */
export function requestPasswordReset(email: string): Promise<Schemas['Detail']> {
  return apiPost<Schemas['Detail']>(endpoint('/auth/password/reset/'), { email })
}

export function confirmPasswordReset(input: PasswordResetConfirmInput): Promise<void> {
  return apiPost<void>(endpoint('/auth/password/reset/confirm/'), input)
}

export function changePassword(input: PasswordChangeInput): Promise<void> {
  return apiPost<void>(endpoint('/auth/password/change/'), input)
}

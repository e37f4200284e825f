/** Organizations, their members and invitations. */
import { apiDelete, apiGet, apiPatch, apiPost } from './client'
import { listAll } from './pagination'
import { endpoint, type Page, type Schemas } from './types'

export type Organization = Schemas['Organization']
export type Membership = Schemas['Membership']
export type Invitation = Schemas['Invitation']
export type Role = Schemas['RoleEnum']

export const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'auditor']

export function listOrganizations(): Promise<Organization[]> {
  return listAll<Organization>(endpoint('/organizations/'))
}

export function getOrganization(id: number): Promise<Organization> {
  return apiGet<Organization>(endpoint('/organizations/{id}/', { id }))
}

export function createOrganization(input: { name: string }): Promise<Organization> {
  return apiPost<Organization>(endpoint('/organizations/'), input)
}

export function renameOrganization(id: number, name: string): Promise<Organization> {
  return apiPatch<Organization>(endpoint('/organizations/{id}/', { id }), { name })
}

export function deleteOrganization(id: number): Promise<void> {
  return apiDelete(endpoint('/organizations/{id}/', { id }))
}

export function listMembers(organizationId: number): Promise<Membership[]> {
  return listAll<Membership>(
    endpoint('/organizations/{organization_pk}/members/', { organization_pk: organizationId }),
  )
}

/** Invite by e-mail: the person gets a link to /invitations/accept?token=... */
export function inviteMember(
  organizationId: number,
  input: { email: string; role: Role },
): Promise<Invitation> {
  return apiPost<Invitation>(
    endpoint('/organizations/{organization_pk}/members/', { organization_pk: organizationId }),
    input,
  )
}

export function changeMemberRole(
  organizationId: number,
  membershipId: number,
  role: Role,
): Promise<Membership> {
  return apiPatch<Membership>(
    endpoint('/organizations/{organization_pk}/members/{id}/', {
      organization_pk: organizationId,
      id: membershipId,
    }),
    { role },
  )
}

export function removeMember(organizationId: number, membershipId: number): Promise<void> {
  return apiDelete(
    endpoint('/organizations/{organization_pk}/members/{id}/', {
      organization_pk: organizationId,
      id: membershipId,
    }),
  )
}

export function leaveOrganization(organizationId: number): Promise<void> {
  return apiPost<void>(
    endpoint('/organizations/{organization_pk}/members/leave/', {
      organization_pk: organizationId,
    }),
  )
}

/** Pending invitations (owners and admins only). */
export async function listInvitations(organizationId: number): Promise<Invitation[]> {
  const page = await apiGet<Page<Invitation>>(
    endpoint('/organizations/{organization_pk}/invitations/', { organization_pk: organizationId }),
    { query: { page_size: 500 } },
  )
  return page.results
}

export function revokeInvitation(organizationId: number, invitationId: number): Promise<void> {
  return apiDelete(
    endpoint('/organizations/{organization_pk}/invitations/{id}/', {
      organization_pk: organizationId,
      id: invitationId,
    }),
  )
}

export function acceptInvitation(token: string): Promise<Membership> {
  return apiPost<Membership>(endpoint('/invitations/accept/'), { token })
}

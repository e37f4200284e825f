/**
 * What a role in an organization allows (apps/core/permissions.py): owners and admins manage
 * members; members also create and change projects, targets and scans; auditors only read.
 * The UI hides what a role cannot do; the API refuses it anyway.
 */
export type RoleName = 'owner' | 'admin' | 'member' | 'auditor'

const RANK: Record<RoleName, number> = { auditor: 1, member: 2, admin: 3, owner: 4 }

function rank(role: string | null | undefined): number {
  return role && role in RANK ? RANK[role as RoleName] : 0
}

/** Create, change, launch, cancel: member and above. */
export function canWrite(role: string | null | undefined): boolean {
  return rank(role) >= RANK.member
}

/** Invite, change roles, remove members: admin and above. */
export function canManage(role: string | null | undefined): boolean {
  return rank(role) >= RANK.admin
}

export function isOwner(role: string | null | undefined): boolean {
  return role === 'owner'
}

export const ROLE_LABELS: Record<RoleName, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  auditor: 'Auditor (read-only)',
}

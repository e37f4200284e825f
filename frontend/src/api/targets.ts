/** Target assets and target groups of a project. */
import { apiDelete, apiPatch, apiPost } from './client'
import { listAll } from './pagination'
import { endpoint, type Schemas } from './types'

export type TargetAsset = Schemas['TargetAsset']
export type AssetType = Schemas['AssetTypeEnum']
export type TargetGroup = Schemas['TargetGroup']

export const ASSET_TYPES: readonly AssetType[] = [
  'git_repository',
  'url',
  'docker_image',
  'ip_address',
  'domain_name',
  'file_upload',
]

export const ASSET_TYPE_LABELS: Record<AssetType, string> = {
  git_repository: 'Git repository or local path',
  url: 'Web application URL',
  docker_image: 'Container image',
  ip_address: 'IP address',
  domain_name: 'Domain name',
  file_upload: 'Uploaded file',
}

/** Free-form per-type settings; git repositories use `branch` (and the server sets `local`). */
export interface TargetMetadata {
  branch?: string
  local?: boolean
  [key: string]: unknown
}

export interface TargetInput {
  name: string
  asset_type: AssetType
  identifier: string
  metadata?: TargetMetadata
  description?: string
  is_active?: boolean
}

export interface TargetGroupInput {
  name: string
  description?: string
  targets?: number[]
}

export function listTargets(projectId: number): Promise<TargetAsset[]> {
  return listAll<TargetAsset>(
    endpoint('/projects/{project_pk}/targets/', { project_pk: projectId }),
  )
}

export function createTarget(projectId: number, input: TargetInput): Promise<TargetAsset> {
  return apiPost<TargetAsset>(
    endpoint('/projects/{project_pk}/targets/', { project_pk: projectId }),
    input,
  )
}

export function updateTarget(
  projectId: number,
  targetId: number,
  input: Partial<TargetInput>,
): Promise<TargetAsset> {
  return apiPatch<TargetAsset>(
    endpoint('/projects/{project_pk}/targets/{id}/', { project_pk: projectId, id: targetId }),
    input,
  )
}

export function deleteTarget(projectId: number, targetId: number): Promise<void> {
  return apiDelete(
    endpoint('/projects/{project_pk}/targets/{id}/', { project_pk: projectId, id: targetId }),
  )
}

export function listTargetGroups(projectId: number): Promise<TargetGroup[]> {
  return listAll<TargetGroup>(
    endpoint('/projects/{project_pk}/targetgroups/', { project_pk: projectId }),
  )
}

export function createTargetGroup(
  projectId: number,
  input: TargetGroupInput,
): Promise<TargetGroup> {
  return apiPost<TargetGroup>(
    endpoint('/projects/{project_pk}/targetgroups/', { project_pk: projectId }),
    input,
  )
}

export function updateTargetGroup(
  projectId: number,
  groupId: number,
  input: Partial<TargetGroupInput>,
): Promise<TargetGroup> {
  return apiPatch<TargetGroup>(
    endpoint('/projects/{project_pk}/targetgroups/{id}/', { project_pk: projectId, id: groupId }),
    input,
  )
}

export function deleteTargetGroup(projectId: number, groupId: number): Promise<void> {
  return apiDelete(
    endpoint('/projects/{project_pk}/targetgroups/{id}/', { project_pk: projectId, id: groupId }),
  )
}

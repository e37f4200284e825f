/** Projects (soft-deleted: DELETE hides the project and stops its schedules). */
import { apiDelete, apiGet, apiPatch, apiPost } from './client'
import { listAll } from './pagination'
import { endpoint, type Page, type Schemas } from './types'

export type Project = Schemas['Project']

export interface ProjectInput {
  name: string
  description?: string
  /** Defaults to the caller's personal organization. */
  organization?: number
}

export interface ProjectQuery {
  page?: number
  page_size?: number
  organization_id?: number
  name?: string
}

export function listProjects(query: ProjectQuery = {}): Promise<Page<Project>> {
  return apiGet<Page<Project>>(endpoint('/projects/'), { query: { ...query } })
}

export function listAllProjects(): Promise<Project[]> {
  return listAll<Project>(endpoint('/projects/'))
}

export function getProject(id: number): Promise<Project> {
  return apiGet<Project>(endpoint('/projects/{id}/', { id }))
}

export function createProject(input: ProjectInput): Promise<Project> {
  return apiPost<Project>(endpoint('/projects/'), input)
}

export function updateProject(
  id: number,
  input: Partial<Pick<ProjectInput, 'name' | 'description'>>,
): Promise<Project> {
  return apiPatch<Project>(endpoint('/projects/{id}/', { id }), input)
}

export function deleteProject(id: number): Promise<void> {
  return apiDelete(endpoint('/projects/{id}/', { id }))
}

import { computed, inject, provide, type ComputedRef, type InjectionKey, type Ref } from 'vue'

import type { Project } from '@/api/projects'
import { useOrganizationsStore } from '@/stores/organizations'

export interface ProjectContext {
  project: Ref<Project | null>
  projectId: ComputedRef<number>
  /** Member and above in the project's organization: create, change, launch. */
  canWrite: ComputedRef<boolean>
}

export const PROJECT_CONTEXT_KEY: InjectionKey<ProjectContext> = Symbol('project')

/** Called by the project page: its tabs read the project and the caller's rights from here. */
export function provideProjectContext(
  project: Ref<Project | null>,
  projectId: ComputedRef<number>,
) {
  const organizations = useOrganizationsStore()
  const canWrite = computed(() => organizations.canWriteIn(project.value?.organization))
  const context: ProjectContext = { project, projectId, canWrite }
  provide(PROJECT_CONTEXT_KEY, context)
  return context
}

export function useProjectContext(): ProjectContext {
  const context = inject(PROJECT_CONTEXT_KEY)
  if (!context) throw new Error('useProjectContext() outside a project page')
  return context
}

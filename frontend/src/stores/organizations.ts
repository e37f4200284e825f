import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import * as orgApi from '@/api/organizations'
import { canManage, canWrite } from '@/composables/roles'

/**
 * The caller's organizations with their role in each. Everything in SecuLite belongs to an
 * organization, so the role found here decides which controls a screen offers.
 */
export const useOrganizationsStore = defineStore('organizations', () => {
  const organizations = ref<orgApi.Organization[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  const byId = computed(() => new Map(organizations.value.map((org) => [org.id, org])))
  /** Organizations where the caller may create projects, targets and scans. */
  const writable = computed(() => organizations.value.filter((org) => canWrite(org.role)))

  async function load(): Promise<void> {
    loading.value = true
    try {
      organizations.value = await orgApi.listOrganizations()
      error.value = null
      loaded.value = true
    } catch (e) {
      error.value = toApiError(e)
    } finally {
      loading.value = false
    }
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded.value && !loading.value) await load()
  }

  async function create(name: string): Promise<orgApi.Organization> {
    const created = await orgApi.createOrganization({ name })
    organizations.value = [...organizations.value, created].sort((a, b) =>
      a.name.localeCompare(b.name),
    )
    return created
  }

  function roleIn(organizationId: number | undefined | null): orgApi.Role | null {
    if (organizationId == null) return null
    return (byId.value.get(organizationId)?.role as orgApi.Role | null | undefined) ?? null
  }

  function canWriteIn(organizationId: number | undefined | null): boolean {
    return canWrite(roleIn(organizationId))
  }

  function canManageIn(organizationId: number | undefined | null): boolean {
    return canManage(roleIn(organizationId))
  }

  function reset(): void {
    organizations.value = []
    loaded.value = false
    error.value = null
  }

  return {
    organizations,
    loaded,
    loading,
    error,
    byId,
    writable,
    load,
    ensureLoaded,
    create,
    roleIn,
    canWriteIn,
    canManageIn,
    reset,
  }
})

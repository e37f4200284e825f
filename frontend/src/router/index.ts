import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteRecordRaw,
} from 'vue-router'

import { useAuthStore } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the browser tab, before " · SecuLite". */
    title?: string
    /** Reachable without signing in. */
    public?: boolean
    /** Sign-in and registration: a signed-in user is sent on instead. */
    guestOnly?: boolean
    /** Platform staff only. */
    staff?: boolean
    /** `bare`: no navigation (the sign-in screens). */
    layout?: 'bare'
  }
}

export const APP_NAME = 'SecuLite'

// Every view is its own chunk, loaded when its route is first visited.
export const routes: RouteRecordRaw[] = [
  {
    path: '/',
    name: 'home',
    component: () => import('@/views/dashboard/DashboardView.vue'),
    meta: { title: 'Dashboard' },
  },
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('@/views/auth/SignInView.vue'),
    meta: { title: 'Sign in', public: true, guestOnly: true, layout: 'bare' },
  },
  {
    path: '/register',
    name: 'register',
    component: () => import('@/views/auth/RegisterView.vue'),
    meta: { title: 'Create an account', public: true, guestOnly: true, layout: 'bare' },
  },
  {
    path: '/forgot-password',
    name: 'forgot-password',
    component: () => import('@/views/auth/PasswordResetRequestView.vue'),
    meta: { title: 'Reset your password', public: true, layout: 'bare' },
  },
  {
    // The link in the password reset e-mail (apps/users/services.py password_reset_send).
    path: '/reset-password/:uid/:token',
    name: 'reset-password',
    component: () => import('@/views/auth/PasswordResetConfirmView.vue'),
    meta: { title: 'Choose a new password', public: true, layout: 'bare' },
  },
  {
    // The link in the invitation e-mail (apps/users/services.py invitation_send).
    path: '/invitations/accept',
    name: 'invitation-accept',
    component: () => import('@/views/organizations/InvitationAcceptView.vue'),
    meta: { title: 'Accept an invitation' },
  },
  {
    path: '/organizations',
    name: 'organizations',
    component: () => import('@/views/organizations/OrganizationsView.vue'),
    meta: { title: 'Organizations' },
  },
  {
    path: '/organizations/:id(\\d+)',
    name: 'organization',
    component: () => import('@/views/organizations/OrganizationDetailView.vue'),
    meta: { title: 'Organization' },
  },
  {
    path: '/projects',
    name: 'projects',
    component: () => import('@/views/projects/ProjectsView.vue'),
    meta: { title: 'Projects' },
  },
  {
    path: '/projects/:id(\\d+)',
    component: () => import('@/views/projects/ProjectDetailView.vue'),
    meta: { title: 'Project' },
    children: [
      {
        path: '',
        name: 'project',
        redirect: (to) => ({ name: 'project-targets', params: to.params }),
      },
      {
        path: 'targets',
        name: 'project-targets',
        component: () => import('@/views/projects/ProjectTargetsTab.vue'),
        meta: { title: 'Targets' },
      },
      {
        path: 'groups',
        name: 'project-groups',
        component: () => import('@/views/projects/ProjectTargetGroupsTab.vue'),
        meta: { title: 'Target groups' },
      },
      {
        path: 'configurations',
        name: 'project-configurations',
        component: () => import('@/views/projects/ProjectConfigurationsTab.vue'),
        meta: { title: 'Scan configurations' },
      },
      {
        path: 'scans',
        name: 'project-scans',
        component: () => import('@/views/projects/ProjectScansTab.vue'),
        meta: { title: 'Scans' },
      },
      {
        path: 'findings',
        name: 'project-findings',
        component: () => import('@/views/projects/ProjectFindingsTab.vue'),
        meta: { title: 'Findings' },
      },
    ],
  },
  {
    path: '/projects/:id(\\d+)/configurations/new',
    name: 'configuration-new',
    component: () => import('@/views/scanConfigurations/ScanConfigurationEditView.vue'),
    meta: { title: 'New scan configuration' },
  },
  {
    path: '/projects/:id(\\d+)/configurations/:configId(\\d+)',
    name: 'configuration-edit',
    component: () => import('@/views/scanConfigurations/ScanConfigurationEditView.vue'),
    meta: { title: 'Scan configuration' },
  },
  {
    path: '/scans',
    name: 'scans',
    component: () => import('@/views/scans/ScansView.vue'),
    meta: { title: 'Scans' },
  },
  {
    path: '/scans/:id(\\d+)',
    name: 'scan',
    component: () => import('@/views/scans/ScanDetailView.vue'),
    meta: { title: 'Scan' },
  },
  {
    path: '/findings',
    name: 'findings',
    component: () => import('@/views/findings/FindingsView.vue'),
    meta: { title: 'Findings' },
  },
  {
    path: '/findings/:id(\\d+)',
    name: 'finding',
    component: () => import('@/views/findings/FindingDetailView.vue'),
    meta: { title: 'Finding' },
  },
  {
    path: '/profile',
    name: 'profile',
    component: () => import('@/views/profile/ProfileView.vue'),
    meta: { title: 'Profile' },
  },
  {
    // Not under /admin/: that prefix is Django's admin site.
    path: '/system-settings',
    name: 'system-settings',
    component: () => import('@/views/admin/SystemSettingsView.vue'),
    meta: { title: 'Admin settings', staff: true },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'Page not found', public: true },
  },
]

export function pageTitle(title?: string): string {
  return title ? `${title} · ${APP_NAME}` : APP_NAME
}

/** Only same-site paths are followed after sign-in (no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/'
}

/**
 * Every screen but the public ones needs a session: GET /auth/user/ answering 401 sends the
 * browser to sign-in, which comes back here afterwards (`?next=`).
 */
export async function authGuard(to: RouteLocationNormalized) {
  const auth = useAuthStore()
  if (to.meta.public) {
    if (to.meta.guestOnly && (await auth.ensureLoaded())) return safeNext(to.query.next)
    return true
  }
  const user = await auth.ensureLoaded()
  if (!user) {
    return { name: 'sign-in', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  }
  if (to.meta.staff && !user.is_staff) {
    return { name: 'not-found', params: { pathMatch: to.path.slice(1).split('/') } }
  }
  return true
}

const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: (_to, _from, savedPosition) => savedPosition ?? { top: 0 },
})

router.beforeEach(authGuard)

router.afterEach((to) => {
  document.title = pageTitle(to.meta.title)
})

export default router

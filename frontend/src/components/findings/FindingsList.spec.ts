import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'

import { findingRow, jsonResponse, mockFetchRoutes, page } from '@/test/http'

import FindingsList from './FindingsList.vue'

const Blank = defineComponent({ render: () => h('div') })

function setup(
  url: string,
  props: { projectId?: number; canTriage: boolean } = { canTriage: true },
) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/findings', name: 'findings', component: Blank },
      { path: '/findings/:id', name: 'finding', component: Blank },
      { path: '/scans/:id', name: 'scan', component: Blank },
      { path: '/projects', name: 'projects', component: Blank },
      { path: '/projects/:id/configurations', name: 'project-configurations', component: Blank },
    ],
  })
  const listCalls: string[] = []
  const fetchMock = mockFetchRoutes(
    ['/api/v1/auth/user/', () => jsonResponse(200, { id: 42, username: 'dana' })],
    ['/api/v1/organizations/', () => jsonResponse(200, page([]))],
    [
      '/api/v1/projects/?',
      () => jsonResponse(200, page([{ id: 3, name: 'Shop', organization: 1 }])),
    ],
    [
      '/api/v1/tooldefinitions/',
      () => jsonResponse(200, page([{ tool_id: 'bandit', name: 'Bandit' }])),
    ],
    ['/api/v1/projects/3/targets/', () => jsonResponse(200, page([{ id: 5, name: 'repo' }]))],
    ['/api/v1/organizations/1/members/', () => jsonResponse(200, page([]))],
    [
      '/api/v1/findings/?',
      (u) => {
        listCalls.push(u)
        return jsonResponse(200, {
          next: 'http://t/api/v1/findings/?cursor=NEXT',
          previous: null,
          results: [findingRow(1), findingRow(2, { severity: 'low' })],
        })
      },
    ],
  )
  return { router, listCalls, fetchMock, url, props }
}

async function mountAt(ctx: ReturnType<typeof setup>) {
  await ctx.router.push(ctx.url)
  await ctx.router.isReady()
  const wrapper = mount(FindingsList, {
    props: ctx.props,
    global: { plugins: [createPinia(), ctx.router] },
  })
  await flushPromises()
  return wrapper
}

describe('FindingsList', () => {
  it('asks the API for the page the URL describes and renders only that page', async () => {
    const ctx = setup(
      '/findings?severity=high,critical&status=new&tool=bandit&ordering=due_date&size=25',
    )
    const wrapper = await mountAt(ctx)
    expect(ctx.listCalls).toEqual([
      '/api/v1/findings/?tool_id=bandit&severity=critical%2Chigh&status=new&ordering=due_date&page_size=25',
    ])
    expect(wrapper.findAll('tbody tr[data-severity]')).toHaveLength(2)
    expect(wrapper.get('[data-testid="chip-severity-high"]').attributes('aria-pressed')).toBe(
      'true',
    )
    expect(wrapper.get('[data-testid="export-csv"]').attributes('href')).toBe(
      '/api/v1/findings/export/?tool_id=bandit&severity=critical%2Chigh&status=new&ordering=due_date&format=csv',
    )
  })

  it('puts a pressed chip, a sort and the next page in the URL', async () => {
    const ctx = setup('/findings')
    const wrapper = await mountAt(ctx)
    await wrapper.get('[data-testid="chip-severity-medium"]').trigger('click')
    await flushPromises()
    expect(ctx.router.currentRoute.value.fullPath).toBe('/findings?severity=medium')
    await wrapper.get('[data-testid="sort-first_seen_at"]').trigger('click')
    await flushPromises()
    expect(ctx.router.currentRoute.value.query).toMatchObject({
      severity: 'medium',
      ordering: '-first_seen_at',
    })
    await wrapper.get('[data-testid="page-next"]').trigger('click')
    await flushPromises()
    expect(ctx.router.currentRoute.value.query.cursor).toBe('NEXT')
    expect(ctx.listCalls[ctx.listCalls.length - 1]).toContain('cursor=NEXT')
    // A new filter starts from the first page again.
    await wrapper.get('[data-testid="chip-status-new"]').trigger('click')
    await flushPromises()
    expect(ctx.router.currentRoute.value.query.cursor).toBeUndefined()
  })

  it('fixes the project on a project page and offers its targets', async () => {
    const ctx = setup('/findings?scan=9', { projectId: 3, canTriage: false })
    const wrapper = await mountAt(ctx)
    expect(ctx.listCalls[0]).toBe(
      '/api/v1/findings/?project_id=3&scan_id=9&ordering=-severity&page_size=50',
    )
    expect(wrapper.find('[data-testid="filter-project"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="filter-target"]').text()).toContain('repo')
    // Read-only: no selection, no bulk triage.
    expect(wrapper.find('[data-testid="select-all"]').exists()).toBe(false)
  })

  it('shows the bulk bar once findings are selected', async () => {
    const ctx = setup('/findings')
    const wrapper = await mountAt(ctx)
    expect(wrapper.find('[data-testid="bulk-bar"]').exists()).toBe(false)
    await wrapper.get('[data-testid="select-all"]').trigger('change')
    expect(wrapper.get('[data-testid="bulk-count"]').text()).toContain('2 selected')
  })
})

import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'

import { pageTitle, routes } from './index'

function makeRouter() {
  return createRouter({ history: createMemoryHistory(), routes })
}

describe('routes', () => {
  it('serves the home view at /', () => {
    expect(makeRouter().resolve('/').name).toBe('home')
  })

  it('sends unknown deep links to the not-found view', () => {
    const router = makeRouter()
    expect(router.resolve('/projects/42').name).toBe('not-found')
    expect(router.resolve('/a/b/c?x=1').name).toBe('not-found')
  })

  it('loads every view lazily', () => {
    for (const route of routes) {
      expect(typeof route.component).toBe('function')
    }
  })

  it('renders the not-found page with a link home', async () => {
    const router = makeRouter()
    await router.push('/projects/42')
    const wrapper = mount(RouterView, { global: { plugins: [router] } })
    await flushPromises()

    expect(wrapper.get('h1').text()).toBe('Page not found')
    expect(wrapper.text()).toContain('/projects/42')
    expect(wrapper.text()).toContain('does not exist')
    expect(wrapper.get('a').attributes('href')).toBe('/')
  })

  it('builds page titles', () => {
    expect(pageTitle()).toBe('SecuLite')
    expect(pageTitle('Page not found')).toBe('Page not found · SecuLite')
  })
})

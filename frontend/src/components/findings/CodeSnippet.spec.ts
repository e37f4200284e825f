import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import CodeSnippet from './CodeSnippet.vue'

describe('CodeSnippet', () => {
  it('numbers the lines from line_start and marks the flagged range', () => {
    const wrapper = mount(CodeSnippet, {
      props: { code: 'a = 1\nb = eval(x)\nc = 3\n', lineStart: 10, lineEnd: 11 },
    })
    const lines = wrapper.findAll('[data-line]')
    expect(lines.map((l) => l.attributes('data-line'))).toEqual(['10', '11', '12'])
    const flagged = wrapper.findAll('[data-testid="code-line-flagged"]')
    expect(flagged.map((l) => l.attributes('data-line'))).toEqual(['10', '11'])
    // Marked for screen readers too, not only by colour.
    expect(flagged[0]?.text()).toContain('(flagged line)')
    expect(wrapper.get('[data-line="12"]').text()).toContain('c = 3')
  })

  it('marks one line when there is no end, and numbers from firstLine when given', () => {
    const wrapper = mount(CodeSnippet, {
      props: { code: 'x\ny\nz', lineStart: 21, firstLine: 20 },
    })
    expect(
      wrapper.findAll('[data-testid="code-line-flagged"]').map((l) => l.attributes('data-line')),
    ).toEqual(['21'])
  })
})

import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { JsonSchema } from '@/api/tools'

import { fieldsOf, parseList, toolErrorsByIndex, validateOverrides } from './overrides'
import ToolOverridesForm from './ToolOverridesForm.vue'

/** Shapes taken from the real plugins (bandit, nmap, semgrep, detect-secrets). */
const SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    severity_threshold: {
      enum: ['low', 'medium', 'high'],
      description: 'Lowest severity reported.',
    },
    timing: { enum: [2, 3, 4] },
    skip_tests: {
      type: 'array',
      description: 'Bandit test ids to skip, e.g. B101.',
      items: { type: 'string', pattern: '^B\\d{3}$' },
      uniqueItems: true,
    },
    rule_packs: {
      type: 'array',
      items: { enum: ['dockerfile', 'javascript', 'python'] },
      minItems: 1,
    },
    jobs: { type: 'integer', minimum: 1, maximum: 16 },
    hex_limit: { type: 'number', minimum: 0, maximum: 8 },
    service_detection: { type: 'boolean', default: true },
    ignore_inline_suppressions: { type: 'boolean', default: false },
  },
}

/** Mounted like `v-model` does: every update comes back as the new prop. */
function mountForm(modelValue: Record<string, unknown> = {}) {
  const holder: { setProps?: (props: { modelValue: Record<string, unknown> }) => Promise<void> } =
    {}
  const wrapper = mount(ToolOverridesForm, {
    props: {
      schema: SCHEMA,
      modelValue,
      idPrefix: 'opt-bandit',
      'onUpdate:modelValue': (value: Record<string, unknown>) =>
        holder.setProps?.({ modelValue: value }),
    },
  })
  holder.setProps = (props) => wrapper.setProps(props)
  return wrapper
}

function lastValue(wrapper: ReturnType<typeof mount>) {
  const events = wrapper.emitted('update:modelValue') as Array<[Record<string, unknown>]>
  return events[events.length - 1]?.[0]
}

describe('fieldsOf', () => {
  it('reads each property into a kind of control', () => {
    expect(fieldsOf(SCHEMA).map((f) => [f.key, f.kind])).toEqual([
      ['severity_threshold', 'enum'],
      ['timing', 'enum'],
      ['skip_tests', 'string-list'],
      ['rule_packs', 'multi-enum'],
      ['jobs', 'integer'],
      ['hex_limit', 'number'],
      ['service_detection', 'boolean'],
      ['ignore_inline_suppressions', 'boolean'],
    ])
    expect(fieldsOf(SCHEMA)[0]?.label).toBe('Severity threshold')
  })
})

describe('validateOverrides', () => {
  it('checks patterns, bounds, whole numbers and list sizes like the server does', () => {
    expect(
      validateOverrides(SCHEMA, { skip_tests: ['B101'], jobs: 4, rule_packs: ['python'] }),
    ).toEqual({})
    expect(
      validateOverrides(SCHEMA, {
        skip_tests: ['B101', 'nope'],
        jobs: 40,
        hex_limit: 2.5,
        rule_packs: [],
      }),
    ).toEqual({
      skip_tests: '“nope” has the wrong form.',
      jobs: 'At most 16.',
      rule_packs: 'Choose at least 1.',
    })
    expect(validateOverrides(SCHEMA, { jobs: 1.5 })).toEqual({ jobs: 'Enter a whole number.' })
    expect(validateOverrides(SCHEMA, { skip_tests: ['B101', 'B101'] })).toEqual({
      skip_tests: 'An entry is listed twice.',
    })
  })
})

describe('ToolOverridesForm', () => {
  it('renders a control per option with its description', () => {
    const wrapper = mountForm()
    expect(wrapper.get('[data-testid="opt-bandit-severity_threshold"]').element.tagName).toBe(
      'SELECT',
    )
    expect(wrapper.get('[data-testid="opt-bandit-skip_tests"]').element.tagName).toBe('TEXTAREA')
    expect(wrapper.get('[data-testid="opt-bandit-jobs"]').attributes()).toMatchObject({
      type: 'number',
      min: '1',
      max: '16',
      step: '1',
    })
    expect(wrapper.findAll('[data-testid^="opt-bandit-rule_packs-"]')).toHaveLength(3)
    expect(
      (wrapper.get('[data-testid="opt-bandit-service_detection"]').element as HTMLInputElement)
        .checked,
    ).toBe(true)
    expect(wrapper.text()).toContain('Bandit test ids to skip, e.g. B101.')
    // Every control has a label.
    expect(wrapper.get('label[for="opt-bandit-jobs"]').text()).toBe('Jobs')
  })

  it('emits typed values and only what differs from the defaults', async () => {
    const wrapper = mountForm()
    await wrapper.get('[data-testid="opt-bandit-severity_threshold"]').setValue('high')
    expect(lastValue(wrapper)).toEqual({ severity_threshold: 'high' })

    await wrapper.get('[data-testid="opt-bandit-timing"]').setValue('3')
    expect(lastValue(wrapper)).toMatchObject({ timing: 3 })

    await wrapper.get('[data-testid="opt-bandit-jobs"]').setValue('4')
    expect(lastValue(wrapper)).toMatchObject({ jobs: 4 })

    await wrapper.get('[data-testid="opt-bandit-skip_tests"]').setValue('B101\nB102\n')
    expect(lastValue(wrapper)).toMatchObject({ skip_tests: ['B101', 'B102'] })

    await wrapper.get('[data-testid="opt-bandit-rule_packs-python"]').setValue(true)
    await wrapper.get('[data-testid="opt-bandit-rule_packs-dockerfile"]').setValue(true)
    expect(lastValue(wrapper)).toMatchObject({ rule_packs: ['dockerfile', 'python'] })

    await wrapper.get('[data-testid="opt-bandit-ignore_inline_suppressions"]').setValue(true)
    expect(lastValue(wrapper)).toMatchObject({ ignore_inline_suppressions: true })
    await wrapper.get('[data-testid="opt-bandit-ignore_inline_suppressions"]').setValue(false)
    expect(lastValue(wrapper)).not.toHaveProperty('ignore_inline_suppressions')

    await wrapper.get('[data-testid="opt-bandit-severity_threshold"]').setValue('')
    expect(lastValue(wrapper)).not.toHaveProperty('severity_threshold')
  })

  it('shows its own check and the server messages about this tool', async () => {
    const wrapper = mountForm({ skip_tests: ['X1'] })
    expect(wrapper.get('[data-testid="opt-bandit-skip_tests-problem"]').text()).toBe(
      '“X1” has the wrong form.',
    )
    expect(wrapper.get('[data-testid="opt-bandit-skip_tests"]').attributes('aria-invalid')).toBe(
      'true',
    )

    await wrapper.setProps({
      serverErrors: ["bandit skip_tests/0: 'X1' does not match '^B\\\\d{3}$'"],
    })
    expect(wrapper.get('[data-testid="opt-bandit-errors"]').text()).toContain('does not match')
  })

  it('shows the existing values', () => {
    const wrapper = mountForm({
      skip_tests: ['B101', 'B105'],
      jobs: 2,
      severity_threshold: 'medium',
    })
    expect(
      (wrapper.get('[data-testid="opt-bandit-skip_tests"]').element as HTMLTextAreaElement).value,
    ).toBe('B101\nB105')
    expect((wrapper.get('[data-testid="opt-bandit-jobs"]').element as HTMLInputElement).value).toBe(
      '2',
    )
    expect(
      (wrapper.get('[data-testid="opt-bandit-severity_threshold"]').element as HTMLSelectElement)
        .value,
    ).toBe('medium')
  })
})

describe('helpers', () => {
  it('parses lists and sorts server messages to their tool', () => {
    expect(parseList(' a \n\nb, c ')).toEqual(['a', 'b', 'c'])
    const { byIndex, rest } = toolErrorsByIndex([
      '1: bandit skip_tests/0: bad',
      'Choose at least one tool.',
    ])
    expect(byIndex.get(1)).toEqual(['bandit skip_tests/0: bad'])
    expect(rest).toEqual(['Choose at least one tool.'])
  })
})

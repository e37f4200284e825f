import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { previewCron } from './cron'
import CronPreview from './CronPreview.vue'

// A Thursday, 12:00 UTC.
const FROM = new Date('2030-01-03T12:00:00Z')

describe('previewCron', () => {
  it('says the schedule in words and computes the next runs in the given zone', () => {
    const preview = previewCron('0 3 * * 1', 'Europe/Berlin', 3, FROM)
    expect(preview.error).toBeNull()
    expect(preview.description).toBe('At 03:00, only on Monday')
    // 03:00 in Berlin (UTC+1 in winter) is 02:00 UTC.
    expect(preview.runs.map((d) => d.toISOString())).toEqual([
      '2030-01-07T02:00:00.000Z',
      '2030-01-14T02:00:00.000Z',
      '2030-01-21T02:00:00.000Z',
    ])
  })

  it('reads day-of-month and day-of-week with OR, as cron (and croniter on the server) does', () => {
    const runs = previewCron('0 0 1 * 1', 'UTC', 2, FROM).runs.map((d) => d.toISOString())
    expect(runs).toEqual(['2030-01-07T00:00:00.000Z', '2030-01-14T00:00:00.000Z'])
  })

  it('explains what is wrong', () => {
    expect(previewCron('0 3 * *', 'UTC').error).toContain('five fields')
    expect(previewCron('0 3 * * 1 2030', 'UTC').error).toContain('five fields')
    expect(previewCron('99 3 * * *', 'UTC').error).toMatch(/^Not a cron expression/)
    expect(previewCron('  ', 'UTC')).toEqual({ description: null, runs: [], error: null })
  })
})

describe('CronPreview', () => {
  it('lists the next runs in the schedule zone and the viewer zone', () => {
    const wrapper = mount(CronPreview, {
      props: {
        expression: '30 6 * * *',
        timeZone: 'UTC',
        viewerTimeZone: 'Asia/Tokyo',
        count: 2,
        from: FROM,
      },
    })
    expect(wrapper.get('[data-testid="cron-preview-text"]').text()).toBe('At 06:30, every day')
    const items = wrapper.findAll('[data-testid="cron-preview-runs"] li')
    expect(items).toHaveLength(2)
    expect(items[0]!.get('time').attributes('datetime')).toBe('2030-01-04T06:30:00.000Z')
    expect(items[0]!.text()).toContain('your time')
    expect(wrapper.text()).toContain('Next runs (UTC)')
  })

  it('shows the error instead of runs', () => {
    const wrapper = mount(CronPreview, { props: { expression: 'every day', timeZone: 'UTC' } })
    expect(wrapper.get('[data-testid="cron-preview-error"]').text()).toContain('five fields')
    expect(wrapper.find('[data-testid="cron-preview-runs"]').exists()).toBe(false)
  })
})

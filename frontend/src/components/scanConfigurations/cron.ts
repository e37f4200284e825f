/**
 * The client-side preview of a cron schedule: cronstrue says it in words, croner computes the
 * next runs in the configuration's time zone. The server (croniter) stays the authority: it
 * answers `next_runs` after saving. Both read day-of-month and day-of-week with OR, like cron.
 */
import { Cron } from 'croner'
import cronstrue from 'cronstrue'

export interface CronPreview {
  description: string | null
  runs: Date[]
  error: string | null
}

const FIVE_FIELDS =
  'Use five fields: minute, hour, day of month, month, day of week (e.g. 0 3 * * 1).'

export function previewCron(
  expression: string,
  timeZone: string,
  count = 5,
  from?: Date,
): CronPreview {
  const text = expression.trim().replace(/\s+/g, ' ')
  if (!text) return { description: null, runs: [], error: null }
  if (text.split(' ').length !== 5) return { description: null, runs: [], error: FIVE_FIELDS }
  let description: string
  try {
    description = cronstrue.toString(text, { use24HourTimeFormat: true, verbose: true })
  } catch (e) {
    return {
      description: null,
      runs: [],
      error: `Not a cron expression: ${String(e).replace(/^Error: /, '')}`,
    }
  }
  try {
    const job = new Cron(text, { timezone: timeZone, paused: true, mode: '5-part' })
    const runs = job.nextRuns(count, from)
    job.stop()
    return { description, runs, error: null }
  } catch (e) {
    return {
      description: null,
      runs: [],
      error: `Not a cron expression: ${e instanceof Error ? e.message : String(e)}`,
    }
  }
}

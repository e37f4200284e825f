/** IANA time zone names and formatting of instants in a given zone (Intl only, no library). */

let cached: string[] | null = null

/** Every IANA zone the browser knows, with UTC first. */
export function timeZones(): string[] {
  if (cached) return cached
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] }
  const zones = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : []
  cached = ['UTC', ...zones.filter((zone) => zone !== 'UTC')]
  return cached
}

/** The browser's own zone (a sensible default before the profile is known). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** "Mon, 2 Dec 2030, 03:00 CET" in `zone`. */
export function formatInZone(date: Date | string, zone: string): string {
  const value = typeof date === 'string' ? new Date(date) : date
  if (Number.isNaN(value.getTime())) return String(date)
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone: zone,
      weekday: 'short',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    }).format(value)
  } catch {
    return value.toISOString()
  }
}

/** The wall-clock time of an instant in `zone`, as `YYYY-MM-DDTHH:mm` for <input type=datetime-local>. */
export function wallTimeInZone(iso: string, zone: string): string {
  const value = new Date(iso)
  if (Number.isNaN(value.getTime())) return ''
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(value)
      .map((part) => [part.type, part.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`
}

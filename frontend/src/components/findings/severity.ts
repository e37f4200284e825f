/** How severities look: a symbol and a word always go with the colour (WCAG 1.4.1). */
import type { Severity } from '@/api/findings'

export const SEVERITY_SYMBOLS: Record<Severity, string> = {
  critical: '▲▲',
  high: '▲',
  medium: '◆',
  low: '▼',
  info: 'ℹ',
}

/** Chart colours (fills), one hue step apart and readable against white and dark surfaces. */
export const SEVERITY_COLOURS: Record<Severity, string> = {
  critical: '#b91c1c',
  high: '#ea580c',
  medium: '#ca8a04',
  low: '#2563eb',
  info: '#6b7280',
}

/** Point shapes of the trend lines, so the lines differ in shape as well as colour. */
export const SEVERITY_POINT_STYLES: Record<
  Severity,
  'triangle' | 'rectRot' | 'rect' | 'circle' | 'crossRot'
> = {
  critical: 'triangle',
  high: 'rectRot',
  medium: 'rect',
  low: 'circle',
  info: 'crossRot',
}

/** Dash patterns of the trend lines (solid for critical). */
export const SEVERITY_DASHES: Record<Severity, number[]> = {
  critical: [],
  high: [8, 4],
  medium: [2, 3],
  low: [10, 3, 2, 3],
  info: [1, 6],
}

/**
 * Chart.js, registered with only what the dashboard draws (tree-shaken), plus a plugin that
 * writes each bar's value above it and fill patterns per severity, so the charts read without
 * colour. Imported only by the chart components, which the dashboard loads lazily.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type Plugin,
} from 'chart.js'

import type { Severity } from '@/api/findings'
import { SEVERITY_COLOURS } from '@/components/findings/severity'

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
  Filler,
)

/** Draws the value of every bar above it. */
export const barValuesPlugin: Plugin<'bar'> = {
  id: 'seculiteBarValues',
  afterDatasetsDraw(chart) {
    const { ctx } = chart
    ctx.save()
    ctx.font = '600 13px system-ui, sans-serif'
    ctx.fillStyle = getComputedStyle(chart.canvas).color || '#1a1d23'
    ctx.textAlign = 'center'
    ctx.textBaseline = 'bottom'
    chart.data.datasets.forEach((dataset, i) => {
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const value = dataset.data[j]
        if (typeof value === 'number') ctx.fillText(String(value), bar.x, bar.y - 3)
      })
    })
    ctx.restore()
  },
}

type PatternKind = 'solid' | 'diagonal' | 'dots' | 'cross' | 'horizontal'
const PATTERNS: Record<Severity, PatternKind> = {
  critical: 'solid',
  high: 'diagonal',
  medium: 'dots',
  low: 'horizontal',
  info: 'cross',
}

/** A fill for a severity: its colour with a pattern drawn over it (the colour alone if the
 * browser cannot make patterns). */
export function severityFill(severity: Severity): string | CanvasPattern {
  const colour = SEVERITY_COLOURS[severity]
  const kind = PATTERNS[severity]
  if (kind === 'solid' || typeof document === 'undefined') return colour
  const canvas = document.createElement('canvas')
  canvas.width = 10
  canvas.height = 10
  const ctx = canvas.getContext('2d')
  if (!ctx) return colour
  ctx.fillStyle = colour
  ctx.fillRect(0, 0, 10, 10)
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.75)'
  ctx.fillStyle = 'rgba(255, 255, 255, 0.8)'
  ctx.lineWidth = 2
  ctx.beginPath()
  if (kind === 'diagonal') {
    ctx.moveTo(0, 10)
    ctx.lineTo(10, 0)
    ctx.moveTo(-2, 2)
    ctx.lineTo(2, -2)
    ctx.moveTo(8, 12)
    ctx.lineTo(12, 8)
    ctx.stroke()
  } else if (kind === 'dots') {
    ctx.arc(5, 5, 1.8, 0, Math.PI * 2)
    ctx.fill()
  } else if (kind === 'horizontal') {
    ctx.moveTo(0, 5)
    ctx.lineTo(10, 5)
    ctx.stroke()
  } else {
    ctx.moveTo(0, 0)
    ctx.lineTo(10, 10)
    ctx.moveTo(10, 0)
    ctx.lineTo(0, 10)
    ctx.stroke()
  }
  return ctx.createPattern(canvas, 'repeat') ?? colour
}

export { Chart }

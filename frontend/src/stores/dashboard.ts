import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

import { ApiError, toApiError } from '@/api/client'
import * as reportsApi from '@/api/reports'

/** The trend ranges the dashboard offers, in days. */
export const TREND_RANGES = [7, 30, 90, 365] as const
export type TrendRange = (typeof TREND_RANGES)[number]

/**
 * The dashboard: the summary (open findings, SLA breaches, top projects, recent scans, the
 * caller's assignments) and the trend over the chosen range, each with its own loading and
 * error state so one failing part does not blank the other.
 */
export const useDashboardStore = defineStore('dashboard', () => {
  const summary = shallowRef<reportsApi.DashboardSummary | null>(null)
  const summaryLoading = ref(false)
  const summaryError = shallowRef<ApiError | null>(null)
  const trend = shallowRef<reportsApi.DashboardTrend | null>(null)
  const trendLoading = ref(false)
  const trendError = shallowRef<ApiError | null>(null)
  const range = ref<TrendRange>(30)
  let trendCall = 0

  async function loadSummary(): Promise<void> {
    summaryLoading.value = true
    try {
      summary.value = await reportsApi.getDashboardSummary()
      summaryError.value = null
    } catch (e) {
      summaryError.value = toApiError(e)
    } finally {
      summaryLoading.value = false
    }
  }

  async function loadTrend(days: TrendRange = range.value): Promise<void> {
    const call = ++trendCall
    range.value = days
    trendLoading.value = true
    try {
      const result = await reportsApi.getDashboardTrend({ days })
      if (call !== trendCall) return
      trend.value = result
      trendError.value = null
    } catch (e) {
      if (call === trendCall) trendError.value = toApiError(e)
    } finally {
      if (call === trendCall) trendLoading.value = false
    }
  }

  return {
    summary,
    summaryLoading,
    summaryError,
    trend,
    trendLoading,
    trendError,
    range,
    loadSummary,
    loadTrend,
  }
})

import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'

import { usePolling } from './usePolling'

type Scan = { status: string }

describe('usePolling', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('polls every interval until the result is finished, then stops', async () => {
    const answers: Scan[] = [{ status: 'queued' }, { status: 'running' }, { status: 'completed' }]
    const fetcher = vi.fn(async () => answers.shift() ?? { status: 'completed' })
    const scope = effectScope()
    const polling = scope.run(() =>
      usePolling(fetcher, { intervalMs: 2000, isDone: (s) => s.status === 'completed' }),
    )!

    await flushPromises()
    expect(fetcher).toHaveBeenCalledTimes(1)
    expect(polling.data.value).toEqual({ status: 'queued' })
    expect(polling.active.value).toBe(true)

    await vi.advanceTimersByTimeAsync(1999)
    expect(fetcher).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fetcher).toHaveBeenCalledTimes(2)
    expect(polling.data.value).toEqual({ status: 'running' })

    await vi.advanceTimersByTimeAsync(2000)
    expect(fetcher).toHaveBeenCalledTimes(3)
    expect(polling.data.value).toEqual({ status: 'completed' })
    expect(polling.active.value).toBe(false)

    await vi.advanceTimersByTimeAsync(60_000)
    expect(fetcher).toHaveBeenCalledTimes(3)
    scope.stop()
  })

  it('stops and aborts the request in flight when its component goes away', async () => {
    let signal: AbortSignal | undefined
    const fetcher = vi.fn(async (s: AbortSignal) => {
      signal = s
      return { status: 'running' }
    })
    const scope = effectScope()
    scope.run(() =>
      usePolling(fetcher, { intervalMs: 2000, isDone: (x: Scan) => x.status === 'completed' }),
    )
    await flushPromises()
    await vi.advanceTimersByTimeAsync(2000)
    expect(fetcher).toHaveBeenCalledTimes(2)

    scope.stop()
    expect(signal?.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(fetcher).toHaveBeenCalledTimes(2)
  })

  it('never overlaps requests: the next tick waits for the slow answer', async () => {
    let release: (value: Scan) => void = () => {}
    const fetcher = vi.fn(() => new Promise<Scan>((resolve) => (release = resolve)))
    const scope = effectScope()
    scope.run(() => usePolling(fetcher, { intervalMs: 2000, isDone: () => false }))
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fetcher).toHaveBeenCalledTimes(1)
    release({ status: 'running' })
    await flushPromises()
    await vi.advanceTimersByTimeAsync(2000)
    expect(fetcher).toHaveBeenCalledTimes(2)
    scope.stop()
  })

  it('keeps polling through a failed request and restarts on demand', async () => {
    const fetcher = vi
      .fn<() => Promise<Scan>>()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce({ status: 'completed' })
      .mockResolvedValue({ status: 'running' })
    const scope = effectScope()
    const polling = scope.run(() =>
      usePolling(fetcher, { intervalMs: 2000, isDone: (s) => s.status === 'completed' }),
    )!
    await flushPromises()
    expect(polling.error.value).toBeInstanceOf(TypeError)
    await vi.advanceTimersByTimeAsync(2000)
    expect(polling.error.value).toBeNull()
    expect(polling.active.value).toBe(false)

    polling.start()
    await flushPromises()
    expect(fetcher).toHaveBeenCalledTimes(3)
    expect(polling.active.value).toBe(true)
    scope.stop()
  })
})

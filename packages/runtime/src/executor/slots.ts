import { RuntimeError } from '../errors.js'

/** Gives a slot back; calling it twice is harmless. */
export type ReleaseSlot = () => void

/**
 * The worker's slots (`worker.slots`): at most `size` task runs run at once; the others wait
 * first-come first-served. A waiter whose signal fires leaves the line with the signal's reason.
 */
export interface WorkerSlots {
  readonly size: number
  readonly inUse: number
  readonly waiting: number
  acquire(signal?: AbortSignal): Promise<ReleaseSlot>
}

export function createWorkerSlots(size: number): WorkerSlots {
  if (!Number.isInteger(size) || size < 1) {
    throw new RuntimeError(`worker.slots must be a whole number of at least 1, not ${size}`, {
      code: 'CONFIG_INVALID',
    })
  }
  let inUse = 0
  const line: Array<() => void> = []

  const releaser = (): ReleaseSlot => {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = line.shift()
      if (next) next()
      else inUse--
    }
  }

  return {
    size,
    get inUse() {
      return inUse
    },
    get waiting() {
      return line.length
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (inUse < size) {
        inUse++
        return Promise.resolve(releaser())
      }
      return new Promise<ReleaseSlot>((resolve, reject) => {
        // The slot passes straight from the releaser to this waiter: inUse stays the same.
        const take = () => {
          signal?.removeEventListener('abort', leave)
          resolve(releaser())
        }
        const leave = () => {
          const index = line.indexOf(take)
          if (index >= 0) line.splice(index, 1)
          reject(signal?.reason)
        }
        line.push(take)
        signal?.addEventListener('abort', leave, { once: true })
      })
    },
  }
}

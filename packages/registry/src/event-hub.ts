import type { StoredEvent } from './catalog-types.js'

export type EventListener = (event: StoredEvent) => void

/**
 * Fans catalog events out to live subscribers (the SSE streams). Events are stored in the
 * catalog before they are published here, so a subscriber that reads the backlog and subscribes
 * in the same tick can never miss one.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>()
  private readonly closers = new Set<() => void>()

  subscribe(listener: EventListener, onClose?: () => void): () => void {
    this.listeners.add(listener)
    if (onClose) this.closers.add(onClose)
    return () => {
      this.listeners.delete(listener)
      if (onClose) this.closers.delete(onClose)
    }
  }

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) listener(event)
    }
  }

  get size(): number {
    return this.listeners.size
  }

  /** Ends every live stream (the registry is shutting down). */
  close(): void {
    for (const close of [...this.closers]) close()
    this.listeners.clear()
    this.closers.clear()
  }
}

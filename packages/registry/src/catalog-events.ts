import type { CatalogDb, EventRow } from './catalog-db.js'
import type { CatalogEventType, StoredEvent } from './catalog-types.js'

/** What an event says about a version. */
export interface EventSubject {
  name: string
  version: string
  integrity: string
  manifestHash: string
  tarballPath: string
  deprecated?: string | false | null
}

/** The catalog's event log: what the event stream replays after `Last-Event-ID`. */
export class CatalogEvents {
  constructor(private readonly db: CatalogDb) {}

  lastEventId(): number {
    const { q } = this.db
    const row = this.db.first(
      q.selectFrom('sqlite_sequence').select('seq').where('name', '=', 'events'),
    )
    return row?.seq ?? 0
  }

  eventsAfter(id: number, limit = 10_000): StoredEvent[] {
    const { q } = this.db
    return this.db
      .all(q.selectFrom('events').selectAll().where('id', '>', id).orderBy('id').limit(limit))
      .map(toEvent)
  }

  /** Sets the id after which new events are numbered (used after a rebuild, see registry.ts). */
  raiseEventIdFloor(floor: number): void {
    if (this.lastEventId() >= floor) return
    const { q } = this.db
    this.db.transaction(() => {
      this.db.run(q.deleteFrom('sqlite_sequence').where('name', '=', 'events'))
      this.db.run(q.insertInto('sqlite_sequence').values({ name: 'events', seq: floor }))
    })
  }

  /** Logs an event (inside the caller's transaction) and answers it as the stream sends it. */
  append(type: CatalogEventType, subject: EventSubject, time: string): StoredEvent {
    const deprecated =
      type === 'deprecated'
        ? subject.deprecated === false
          ? ''
          : (subject.deprecated ?? '')
        : null
    const row = {
      type,
      name: subject.name,
      version: subject.version,
      integrity: subject.integrity,
      manifest_hash: subject.manifestHash,
      tarball_path: subject.tarballPath,
      time,
      deprecated,
    }
    const result = this.db.run(this.db.q.insertInto('events').values(row))
    return toEvent({ id: Number(result.lastInsertRowid), ...row })
  }
}

function toEvent(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    event: row.type,
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    manifestHash: row.manifest_hash,
    tarballPath: row.tarball_path,
    time: row.time,
  }
  if (row.type === 'deprecated') event.deprecated = row.deprecated ? row.deprecated : false
  return event
}

import { sql } from 'kysely'
import type { CatalogDb } from './catalog-db.js'

/** Who maintains each package (plugin or not): `npm owner`, publish rights, scope membership. */
export class CatalogOwners {
  constructor(private readonly db: CatalogDb) {}

  maintainersOf(name: string): string[] {
    const { q } = this.db
    return this.db
      .all(
        q
          .selectFrom('maintainers')
          .select('user')
          .where('name', '=', name)
          .orderBy('since')
          .orderBy('user'),
      )
      .map((row) => row.user)
  }

  addMaintainer(name: string, user: string, since = new Date().toISOString()): void {
    this.db.run(this.db.q.insertInto('maintainers').orIgnore().values({ name, user, since }))
  }

  /** Makes `users` the package's maintainers, keeping the `since` of those who stay. */
  setMaintainers(name: string, users: readonly string[], since = new Date().toISOString()): void {
    const { q } = this.db
    this.db.transaction(() => {
      const keep = new Set(users)
      for (const user of this.maintainersOf(name)) {
        if (!keep.has(user)) {
          this.db.run(q.deleteFrom('maintainers').where('name', '=', name).where('user', '=', user))
        }
      }
      for (const user of users) this.addMaintainer(name, user, since)
    })
  }

  /** Names of every package (plugin or not) this registry has maintainers for. */
  knownPackages(): string[] {
    const { q } = this.db
    return this.db
      .all(q.selectFrom('maintainers').select('name').distinct().orderBy('name'))
      .map((row) => row.name)
  }

  /** Everyone who maintains a package in `@scope` (they own the scope when no config does). */
  scopeMembers(scope: string): string[] {
    const { q } = this.db
    return this.db
      .all(
        q
          .selectFrom('maintainers')
          .select('user')
          .where(
            sql<string>`substr(name, 1, length(${scope}) + 1)`,
            '=',
            sql<string>`${scope} || '/'`,
          )
          .groupBy('user')
          .orderBy(sql`min(since)`)
          .orderBy('user'),
      )
      .map((row) => row.user)
  }

  /** Drops a package's maintainers (the package is gone from storage). */
  forget(name: string): void {
    this.db.run(this.db.q.deleteFrom('maintainers').where('name', '=', name))
  }
}

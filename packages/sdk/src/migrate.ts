import type { AnyDefinition, Migration } from './define.js'
import { KiteError } from './errors.js'
import { isPlainObject } from './properties.js'

export interface MigrateOptions {
  /**
   * Whether a migration's `from` range holds the version the properties were written for. The
   * host decides with its semver library (the SDK depends on nothing but zod).
   */
  applies(from: string): boolean
  /** Names the thing in errors, e.g. `flow "hello", task "greet"`. */
  label: string
}

export interface MigrateResult {
  properties: Record<string, unknown>
  /** The notes of the migrations that ran, in order. */
  applied: Array<Pick<Migration, 'from' | 'note'>>
}

/**
 * Runs, in declaration order, every migration of `definition` whose `from` range applies, on the
 * raw (unrendered) properties. A migration that throws or returns anything but a plain object,
 * or returns a property this version does not know, is a KiteError naming the migration.
 * The input is never modified.
 */
export async function migrateProperties(
  definition: AnyDefinition,
  properties: Record<string, unknown>,
  options: MigrateOptions,
): Promise<MigrateResult> {
  let current: Record<string, unknown> = structuredClone(properties)
  const applied: MigrateResult['applied'] = []
  for (const migration of definition.migrations ?? []) {
    if (!options.applies(migration.from)) continue
    const named = `${options.label}: the migration from ${migration.from} ("${migration.note}") of "${definition.name}"`
    let next: unknown
    try {
      next = await migration.up(structuredClone(current))
    } catch (error) {
      throw new KiteError(`${named} failed: ${(error as Error)?.message ?? String(error)}`, {
        code: 'MIGRATION_FAILED',
        kind: 'user',
        cause: error,
      })
    }
    if (!isPlainObject(next)) {
      throw new KiteError(
        `${named} returned ${describe(next)} instead of an object of properties`,
        { code: 'MIGRATION_INVALID', kind: 'user' },
      )
    }
    current = next
    applied.push({ from: migration.from, note: migration.note })
  }
  if (applied.length > 0) {
    const known = Object.keys(definition.properties.shape)
    const unknown = Object.keys(current).filter((key) => !known.includes(key))
    if (unknown.length > 0) {
      throw new KiteError(
        `${options.label}: after migrating, "${definition.name}" has properties it does not know: ${unknown.join(', ')} (known: ${known.join(', ')})`,
        { code: 'MIGRATION_INVALID', kind: 'user' },
      )
    }
  }
  return { properties: current, applied }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'a non-plain object' : `a ${typeof value}`
}

import type { AnyDefinition } from '@kite/sdk'
import { type MigrateResult, migrateProperties } from '@kite/sdk/host'
import semver from 'semver'
import type { MigrateRequest } from './plugin-host.js'

/**
 * Runs a target version's migrations for properties written for `request.fromVersion`: every
 * migration whose `from` range holds that version. Called by the hosts where the version's code
 * lives (a worker thread for bundles), never on the API's thread.
 */
export function runMigrations(
  definition: AnyDefinition,
  request: MigrateRequest,
): Promise<MigrateResult> {
  return migrateProperties(definition, request.properties, {
    label: request.label,
    applies: (from) =>
      semver.validRange(from) !== null &&
      semver.satisfies(request.fromVersion, from, { includePrerelease: true }),
  })
}

/**
 * @kite/registry — a Kite plugin registry: the npm protocol (embedded verdaccio) with publish
 * checks for plugins, a searchable catalog of every version's manifest, schema diffs, an event
 * stream of publishes, and a browse UI. One process, one port.
 */
export type {
  CatalogEvent,
  CatalogEventType,
  PluginDetails,
  PluginSummary,
  SearchResult,
  TypeDetails,
  TypeSummary,
  VersionSummary,
} from './catalog-types.js'
export {
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorKind,
  type RegistryErrorOptions,
} from './errors.js'
export { API_BASE } from './kite-app.js'
export { createRegistry, type Registry, type RegistryOptions } from './registry.js'
export {
  diffManifests,
  type ManifestDiff,
  type SchemaChange,
  type SchemaChangeKind,
} from './schema-diff.js'
export { UI_BASE } from './ui/layout.js'

/**
 * `@kite/sdk/tarball`: the one reading of an npm package tarball that the registry (at publish)
 * and the runtime (at install) share, with SPEC 5's rules and limits, so both see the same files
 * and the same manifest bytes.
 */
export {
  hashManifest,
  type ManifestFile,
  type PackageContents,
  type ReadPackageOptions,
  readPackageContents,
} from './package-manifest.js'
export {
  formatBytes,
  type PackageFiles,
  type ReadTarballOptions,
  readPackageTarball,
  type TarballErrorCode,
} from './read-tarball.js'
export {
  type AllowedEntryType,
  checkEntryPath,
  collisionKey,
  DEFAULT_TARBALL_LIMITS,
  type EntryPathCheck,
  resolveTarballLimits,
  type TarballLimits,
} from './rules.js'

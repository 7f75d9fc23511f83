/**
 * @kite/sdk/build — bundles a plugin package into one ESM file and writes its manifest. Used by
 * the `kite-plugin build` command; importable for tools that build plugins programmatically.
 */
export {
  type BuildOptions,
  type BuildResult,
  buildPlugin,
  README_END,
  README_START,
  type WatchHandle,
  watchPlugin,
} from './build-plugin.js'
export { loadPluginPackage, type PluginPackageJson } from './plugin-package.js'

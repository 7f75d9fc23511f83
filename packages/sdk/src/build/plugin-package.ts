import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KiteError } from '../errors.js'
import { MANIFEST_PATH, PLUGIN_KEYWORD } from '../manifest.js'

/** The fields of a plugin's package.json the build reads. */
export interface PluginPackageJson {
  name: string
  version: string
  description?: string
  keywords?: string[]
  main?: string
  exports?: unknown
  peerDependencies?: Record<string, string>
  kite?: { manifest?: string; entry?: string }
}

/** Where a plugin's bundle is written, relative to the package root. */
export const BUNDLE_PATH = 'dist/index.js'

/**
 * Reads a plugin's package.json and checks the fields that make it a Kite plugin, naming every
 * missing one and what to write instead.
 */
export async function loadPluginPackage(dir: string): Promise<PluginPackageJson> {
  let pkg: PluginPackageJson
  try {
    pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PluginPackageJson
  } catch (error) {
    throw new KiteError(`cannot read ${join(dir, 'package.json')}: ${(error as Error).message}`, {
      code: 'BUILD_FAILED',
      cause: error,
    })
  }
  const problems: string[] = []
  if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') {
    problems.push('"name" and "version" are required')
  }
  if (pkg.kite?.manifest !== MANIFEST_PATH) {
    problems.push(`add "kite": { "manifest": "${MANIFEST_PATH}" }`)
  }
  if (!pkg.keywords?.includes(PLUGIN_KEYWORD)) {
    problems.push(`add "${PLUGIN_KEYWORD}" to "keywords"`)
  }
  if (typeof pkg.peerDependencies?.['@kite/sdk'] !== 'string') {
    problems.push('declare "@kite/sdk" in "peerDependencies" (the runtime provides it)')
  }
  const exported = JSON.stringify(pkg.exports ?? pkg.main ?? '')
  if (!exported.includes(BUNDLE_PATH)) {
    problems.push(`point "exports" (or "main") at "./${BUNDLE_PATH}"`)
  }
  if (problems.length > 0) {
    throw new KiteError(
      `${join(dir, 'package.json')} is not a Kite plugin package:\n- ${problems.join('\n- ')}`,
      {
        code: 'BUILD_FAILED',
      },
    )
  }
  return pkg
}

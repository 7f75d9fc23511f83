import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { isRecord } from './publish-checks.js'

/** The parts of a packument (verdaccio's stored `package.json`) the registry reads. */
export interface StoredPackument {
  name: string
  /** The versions published to this registry (not those cached from an upstream). */
  versions: Record<string, StoredVersion>
  time: Record<string, string>
  distTags: Record<string, string>
  /** Tarball file name → version, from `_attachments`. */
  files: Map<string, string>
}

export interface StoredVersion {
  version: string
  deprecated: string | null
  integrity: string | undefined
  /** Who published it (`_npmUser.name`), when the registry recorded it. */
  publisher: string | undefined
  /** The tarball's file name in the package folder. */
  filename: string
}

/**
 * Read-only access to verdaccio's local storage: `<dir>/<name>/package.json` plus tarballs,
 * `<dir>/@scope/<name>/...` for scoped packages.
 */
export class PackageStorage {
  constructor(readonly dir: string) {}

  /** Every package name with a stored packument. */
  list(): string[] {
    const names: string[] = []
    for (const entry of safeReaddir(this.dir)) {
      if (entry.startsWith('.')) continue
      if (entry.startsWith('@')) {
        for (const inner of safeReaddir(join(this.dir, entry))) {
          if (this.exists(`${entry}/${inner}`)) names.push(`${entry}/${inner}`)
        }
      } else if (this.exists(entry)) {
        names.push(entry)
      }
    }
    return names.sort()
  }

  /** The stored packument of `name`, or undefined when the package is not (or no longer) here. */
  read(name: string): StoredPackument | undefined {
    let json: unknown
    try {
      json = JSON.parse(readFileSync(join(this.packageDir(name), 'package.json'), 'utf8'))
    } catch {
      return undefined
    }
    if (!isRecord(json)) return undefined
    const files = new Map<string, string>()
    if (isRecord(json._attachments)) {
      for (const [file, info] of Object.entries(json._attachments)) {
        if (isRecord(info) && typeof info.version === 'string') files.set(file, info.version)
      }
    }
    const byVersion = new Map([...files].map(([file, version]) => [version, file]))
    const versions: Record<string, StoredVersion> = {}
    for (const [version, raw] of Object.entries(isRecord(json.versions) ? json.versions : {})) {
      // Versions cached from an upstream registry have no attachment of their own: not ours.
      if (!isRecord(raw) || !byVersion.has(version)) continue
      const dist = isRecord(raw.dist) ? raw.dist : {}
      const tarballUrl = typeof dist.tarball === 'string' ? dist.tarball : ''
      versions[version] = {
        version,
        deprecated: typeof raw.deprecated === 'string' && raw.deprecated ? raw.deprecated : null,
        integrity: typeof dist.integrity === 'string' ? dist.integrity : undefined,
        publisher:
          isRecord(raw._npmUser) && typeof raw._npmUser.name === 'string'
            ? raw._npmUser.name
            : undefined,
        filename: byVersion.get(version) ?? basename(tarballUrl),
      }
    }
    return {
      name,
      versions,
      time: stringRecord(json.time),
      distTags: stringRecord(json['dist-tags']),
      files,
    }
  }

  readTarball(name: string, filename: string): Buffer {
    return readFileSync(join(this.packageDir(name), basename(filename)))
  }

  /** The path under which the registry serves a tarball, e.g. `/@acme/x/-/x-1.0.0.tgz`. */
  static tarballPath(name: string, filename: string): string {
    return `/${name}/-/${basename(filename)}`
  }

  private exists(name: string): boolean {
    return existsSync(join(this.packageDir(name), 'package.json'))
  }

  private packageDir(name: string): string {
    if (name.includes('..') || name.startsWith('/')) throw new Error(`bad package name ${name}`)
    return join(this.dir, name)
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isRecord(value)) return out
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item
  return out
}

import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { RuntimeError } from '../errors.js'

/** The URI scheme of internal storage. */
export const STORAGE_SCHEME = 'kite:///'

/**
 * Files of executions on local disk under `<data>/storage`, addressed by
 * `kite:///<namespace>/<flow>/executions/<id>/<task>/<file>` URIs.
 */
export interface InternalStorageService {
  readonly root: string
  /** Stores data under a URI prefix (`<namespace>/<flow>/executions/<id>/<task>`), returns the URI. */
  put(prefix: string, name: string, data: Uint8Array | string): Promise<string>
  putFile(prefix: string, name: string, source: string): Promise<string>
  get(uri: string): Promise<Uint8Array>
  /** Copies a stored file to `target` and returns it. */
  getFile(uri: string, target: string): Promise<string>
  /** The file behind a URI; throws for URIs that are not `kite:///` or leave the storage root. */
  pathOf(uri: string): string
}

/** The URI prefix of an execution's files. */
export function executionPrefix(namespace: string, flowId: string, executionId: string): string {
  return `${namespace}/${flowId}/executions/${executionId}`
}

export function createInternalStorage(root: string): InternalStorageService {
  const base = resolve(root)
  const pathOf = (uri: string): string => {
    if (typeof uri !== 'string' || !uri.startsWith(STORAGE_SCHEME)) {
      throw new RuntimeError(`"${String(uri)}" is not a ${STORAGE_SCHEME} URI`, { code: 'STORAGE' })
    }
    let relative: string
    try {
      relative = decodeURIComponent(uri.slice(STORAGE_SCHEME.length))
    } catch {
      throw new RuntimeError(`"${uri}" is not a valid URI (a % not followed by two hex digits)`, {
        code: 'STORAGE',
      })
    }
    const path = resolve(base, relative)
    if (!path.startsWith(base + sep)) {
      throw new RuntimeError(`"${uri}" points outside internal storage`, { code: 'STORAGE' })
    }
    return path
  }
  const place = async (prefix: string, name: string) => {
    // The name is one URI segment: escaped, so `%`, `#`, `?` or `/` in it reach the file as written.
    const file = `${randomBytes(4).toString('hex')}-${encodeURIComponent(basename(name) || 'file')}`
    const uri = `${STORAGE_SCHEME}${prefix}/${file}`
    const path = pathOf(uri)
    await mkdir(dirname(path), { recursive: true })
    return { uri, path }
  }
  const missing = (uri: string, error: unknown) =>
    new RuntimeError(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${uri} does not exist in internal storage`
        : `cannot read ${uri}: ${(error as Error).message}`,
      { code: 'STORAGE', cause: error },
    )
  return {
    root: base,
    async put(prefix, name, data) {
      const { uri, path } = await place(prefix, name)
      await writeFile(path, data)
      return uri
    },
    async putFile(prefix, name, source) {
      const { uri, path } = await place(prefix, name)
      await copyFile(source, path)
      return uri
    },
    async get(uri) {
      try {
        return new Uint8Array(await readFile(pathOf(uri)))
      } catch (error) {
        if (error instanceof RuntimeError) throw error
        throw missing(uri, error)
      }
    },
    async getFile(uri, target) {
      try {
        await mkdir(dirname(target), { recursive: true })
        await copyFile(pathOf(uri), target)
        return target
      } catch (error) {
        if (error instanceof RuntimeError) throw error
        throw missing(uri, error)
      }
    },
    pathOf,
  }
}

/** Where `getFile` puts a file when no target is given: the working directory. */
export function defaultTarget(workingDir: string, uri: string): string {
  return join(workingDir, basename(uri))
}

import { lstat, realpath } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { KiteError, type RunContext, z } from '@kite/sdk'

const HOW_TO_CONFIGURE = [
  'Configure them in kite.yaml, for example:',
  'plugins:',
  '  configurations:',
  '    - type: kite.fs',
  '      values:',
  '        allowedRoots: [/data/inbox, /data/outbox]',
].join('\n')

const FsConfig = z.object({ allowedRoots: z.array(z.string()).optional() })

/** The allowed roots of this run, each resolved to its real path. */
export interface AllowedRoots {
  /** Real paths, in the configured order; the first one anchors relative paths. */
  readonly real: readonly string[]
}

/**
 * Reads `allowedRoots` from the plugin configuration (`plugins.configurations` in kite.yaml).
 * Without it every task fails: the plugin never touches the disk unless told where it may.
 */
export async function loadAllowedRoots(
  ctx: Pick<RunContext, 'pluginConfig'>,
): Promise<AllowedRoots> {
  const parsed = FsConfig.safeParse(ctx.pluginConfig)
  const roots = parsed.success ? (parsed.data.allowedRoots ?? []) : []
  if (!parsed.success || roots.length === 0) {
    throw new KiteError(
      `@kite/plugin-fs has no allowed roots (allowedRoots: a list of absolute directories), so it refuses every path. ${HOW_TO_CONFIGURE}`,
      { code: 'FS_NOT_CONFIGURED', kind: 'operational' },
    )
  }
  const real: string[] = []
  for (const root of roots) {
    if (!isAbsolute(root)) {
      throw new KiteError(
        `@kite/plugin-fs: allowed root "${root}" is not an absolute path. ${HOW_TO_CONFIGURE}`,
        { code: 'FS_NOT_CONFIGURED', kind: 'operational' },
      )
    }
    try {
      real.push(await realpath(root))
    } catch (error) {
      throw new KiteError(`@kite/plugin-fs: allowed root "${root}" does not exist`, {
        code: 'FS_NOT_CONFIGURED',
        kind: 'operational',
        cause: error,
      })
    }
  }
  return { real }
}

export function isInside(path: string, roots: AllowedRoots): boolean {
  return roots.real.some(
    (root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep),
  )
}

export function isRoot(path: string, roots: AllowedRoots): boolean {
  return roots.real.includes(path)
}

/** `resolveAllowed` against the roots of the plugin configuration (`loadAllowedRoots`). */
export async function resolveConfiguredPath(
  ctx: Pick<RunContext, 'pluginConfig'>,
  path: string,
  property: string,
): Promise<string> {
  return resolveAllowed(path, await loadAllowedRoots(ctx), property)
}

/**
 * Resolves a path given by a flow to the real path to operate on, or refuses it. Relative paths
 * start at the first root. The real path of every existing parent is taken (so `..` and symlinked
 * folders cannot lead out), and a final component that is a symlink must point inside a root too.
 * The returned path keeps that final symlink, so deleting or moving it acts on the link.
 */
export async function resolveAllowed(
  path: string,
  roots: AllowedRoots,
  property: string,
): Promise<string> {
  const [first] = roots.real
  const absolute = isAbsolute(path) ? resolve(path) : resolve(first ?? sep, path)
  const target =
    absolute === dirname(absolute)
      ? absolute
      : join(await realpathOfNearest(dirname(absolute)), basename(absolute))
  if (!isInside(target, roots)) throw outside(path, property, roots)
  const stats = await lstat(target).catch(() => undefined)
  if (stats?.isSymbolicLink()) {
    const destination = await realpath(target).catch(() => undefined)
    if (destination === undefined || !isInside(destination, roots)) {
      throw outside(path, property, roots, 'it is a symlink to a place outside them')
    }
  }
  return target
}

/** The real path of `path`, or of its nearest existing ancestor followed by the missing names. */
async function realpathOfNearest(path: string): Promise<string> {
  const missing: string[] = []
  let current = path
  for (;;) {
    try {
      return join(await realpath(current), ...missing)
    } catch (error) {
      const parent = dirname(current)
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error
      missing.unshift(basename(current))
      current = parent
    }
  }
}

function outside(path: string, property: string, roots: AllowedRoots, why?: string): KiteError {
  return new KiteError(
    `${property}: "${path}" is outside the allowed roots (${roots.real.join(', ')})${why ? `: ${why}` : ''}`,
    { code: 'PATH_NOT_ALLOWED', kind: 'user' },
  )
}

/** The error for a path that must exist and does not. */
export function notFound(path: string, property: string): KiteError {
  return new KiteError(`${property}: "${path}" does not exist`, {
    code: 'FILE_NOT_FOUND',
    kind: 'user',
  })
}

/** The error for a destination that exists when `overwrite` is false. */
export function exists(path: string, property: string): KiteError {
  return new KiteError(`${property}: "${path}" already exists; set overwrite: true to replace it`, {
    code: 'FILE_EXISTS',
    kind: 'user',
  })
}

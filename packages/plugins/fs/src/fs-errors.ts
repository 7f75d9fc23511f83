import { isKiteError, KiteError } from '@kite/sdk'

const MEANINGS: Record<string, string> = {
  ENOENT: 'does not exist',
  EEXIST: 'already exists; set overwrite: true to replace it',
  EISDIR: 'is a directory',
  ENOTDIR: 'is not a directory (or a part of its path is a file)',
  ENOTEMPTY: 'is a directory that is not empty; set recursive: true to delete it with its content',
  EACCES: 'cannot be accessed: permission denied',
  EPERM: 'cannot be changed: operation not permitted',
}

const CODES: Record<string, string> = {
  ENOENT: 'FILE_NOT_FOUND',
  EEXIST: 'FILE_EXISTS',
  ENOTEMPTY: 'DIRECTORY_NOT_EMPTY',
}

/** Runs a file operation, turning Node's errno errors into KiteErrors that name the path. */
export async function withFsErrors<T>(
  property: string,
  path: string,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (isKiteError(error)) throw error
    const code = (error as NodeJS.ErrnoException).code ?? ''
    const meaning = MEANINGS[code] ?? `failed: ${(error as Error).message}`
    throw new KiteError(`${property}: "${path}" ${meaning}`, {
      code: CODES[code] ?? 'FS_ERROR',
      kind: code === 'EACCES' || code === 'EPERM' ? 'operational' : 'user',
      cause: error,
    })
  }
}

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RuntimeError } from '../errors.js'

/**
 * Claims a data directory for this process (`<data>/runtime.lock` holds the PID). A lock left by
 * a process that no longer runs (a `kill -9`) is taken over; one held by a live process is an
 * error, since two runtimes would both resume the same executions.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, 'runtime.lock')
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      return () => rmSync(file, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(file, 'utf8').trim())
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new RuntimeError(
          `the data directory ${dataDir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}; one runtime per data directory`,
          { code: 'STORAGE', kind: 'operational' },
        )
      }
      rmSync(file, { force: true })
    }
  }
  throw new RuntimeError(`cannot lock the data directory ${dataDir}`, {
    code: 'STORAGE',
    kind: 'operational',
  })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

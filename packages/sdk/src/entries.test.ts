import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

/** The packages (not `node:` built-ins) an entry pulls in, following its imports. */
async function packagesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  })
  const imports = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((item) => item.external).map((item) => item.path),
  )
  return [...new Set(imports.filter((path) => !path.startsWith('node:')))].sort()
}

describe('entry points', () => {
  it('the author entry pulls in zod and nothing else', async () => {
    expect(await packagesOf('./index.ts')).toEqual(['zod'])
  })

  it('the host entry leaves esbuild and yaml to the build entry', async () => {
    const host = await packagesOf('./host/index.ts')
    expect(host).not.toContain('esbuild')
    expect(host).not.toContain('yaml')
    expect(await packagesOf('./build/index.ts')).toEqual(
      expect.arrayContaining(['esbuild', 'yaml']),
    )
  })
})

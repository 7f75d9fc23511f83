import { parseArgs } from 'node:util'
import { isKiteError } from '../errors.js'
import { buildPlugin, watchPlugin } from './build-plugin.js'

const USAGE = `Usage: kite-plugin build [--watch] [--dir DIR] [--entry FILE] [--minify]

Bundles a Kite plugin into dist/index.js (every dependency inside except @kite/sdk and node:
built-ins) and writes its manifest, dist/kite-plugin.json.`

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    console.error(`kite-plugin: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (positionals[0] !== 'build' || positionals.length > 1) {
    console.error(`kite-plugin: unknown command "${positionals.join(' ')}"\n\n${USAGE}`)
    return 2
  }
  const options = { dir: values.dir, entry: values.entry, minify: values.minify }
  if (values.watch) {
    await watchPlugin({
      ...options,
      onBuild(result) {
        if (isKiteError(result)) console.error(`✗ ${result.message}`)
        else console.log(describe(result))
      },
    })
    console.log('watching for changes (Ctrl-C stops)')
    return new Promise<number>(() => {})
  }
  const result = await buildPlugin(options)
  console.log(describe(result))
  return 0
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      watch: { type: 'boolean', short: 'w' },
      dir: { type: 'string' },
      entry: { type: 'string' },
      minify: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

function describe(result: Awaited<ReturnType<typeof buildPlugin>>): string {
  const { manifest } = result
  const count = manifest.tasks.length + manifest.triggers.length + manifest.conditions.length
  return `✓ ${manifest.name}@${manifest.version} (${manifest.group}): ${count} types, bundle ${(result.bundleBytes / 1024).toFixed(1)} kB, built in ${result.milliseconds} ms`
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `kite-plugin: ${isKiteError(error) ? error.message : String((error as Error)?.stack ?? error)}`,
    )
    process.exit(1)
  },
)

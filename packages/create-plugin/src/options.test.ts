import { describe, expect, it } from 'vitest'
import { parseCliArgs } from './options.js'

describe('parseCliArgs', () => {
  it('reads the directory and every option', () => {
    const options = parseCliArgs([
      'my-plugin',
      '--group',
      'acme.demo',
      '--name',
      '@acme/demo',
      '--task',
      'Fetch',
      '--description',
      'Fetches.',
      '--no-trigger',
      '--condition',
      '--registry',
      'http://127.0.0.1:4873',
      '--yes',
    ])
    expect(options).toEqual({
      answers: {
        dir: 'my-plugin',
        group: 'acme.demo',
        packageName: '@acme/demo',
        taskName: 'Fetch',
        taskDescription: 'Fetches.',
        trigger: false,
        condition: true,
        registry: 'http://127.0.0.1:4873',
      },
      yes: true,
      help: false,
      version: false,
    })
  })

  it('leaves out what was not given, so it can be asked', () => {
    expect(parseCliArgs(['-y'])).toEqual({ answers: {}, yes: true, help: false, version: false })
  })

  it('takes the registry npm create used, unless it is the public one or --registry is given', () => {
    const viaNpm = { npm_config_registry: 'http://127.0.0.1:4873/' }
    expect(parseCliArgs([], viaNpm)).toMatchObject({
      answers: { registry: 'http://127.0.0.1:4873/' },
      registrySource: 'npm',
    })
    const explicit = parseCliArgs(['--registry', 'http://kite.local/'], viaNpm)
    expect(explicit.answers.registry).toBe('http://kite.local/')
    expect(explicit.registrySource).toBeUndefined()
    const publicNpm = parseCliArgs([], { npm_config_registry: 'https://registry.npmjs.org/' })
    expect(publicNpm.answers.registry).toBeUndefined()
  })

  it('refuses unknown options, missing values and two directories', () => {
    expect(() => parseCliArgs(['--grup', 'x'])).toThrow(/Unknown option '--grup'.*see --help/)
    expect(() => parseCliArgs(['--group'])).toThrow(expect.objectContaining({ code: 'USAGE' }))
    expect(() => parseCliArgs(['a', 'b'])).toThrow('one directory at most, got "a", "b"')
  })
})

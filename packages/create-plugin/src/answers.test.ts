import { describe, expect, it } from 'vitest'
import { resolveAnswers } from './answers.js'

describe('resolveAnswers', () => {
  it('takes a group alone: scoped package, directory from the package', () => {
    expect(resolveAnswers({ group: 'acme.pokemon' })).toEqual({
      dir: 'kite-plugin-pokemon',
      packageName: '@acme/kite-plugin-pokemon',
      group: 'acme.pokemon',
      task: { name: 'Hello', description: 'Greets someone by name.' },
      trigger: true,
      condition: true,
    })
  })

  it('keeps the directory it is given and names the package after the group', () => {
    const answers = resolveAnswers({ dir: 'my-plugin', group: 'acme.demo' })
    expect(answers).toMatchObject({ dir: 'my-plugin', packageName: '@acme/kite-plugin-demo' })
  })

  it('takes a directory alone: unscoped package, community group', () => {
    expect(resolveAnswers({ dir: 'weather' })).toMatchObject({
      dir: 'weather',
      packageName: 'kite-plugin-weather',
      group: 'community.weather',
    })
  })

  it('takes a package name alone and derives group and directory from it', () => {
    expect(resolveAnswers({ packageName: '@acme/kite-plugin-cards' })).toMatchObject({
      dir: 'kite-plugin-cards',
      group: 'acme.cards',
    })
  })

  it('has defaults for everything', () => {
    expect(resolveAnswers({})).toMatchObject({
      dir: 'kite-plugin-hello',
      packageName: 'kite-plugin-hello',
      group: 'community.hello',
    })
  })

  it('keeps explicit answers, normalizing the registry URL', () => {
    const answers = resolveAnswers({
      dir: 'x',
      group: 'acme.tools',
      packageName: 'acme-tools',
      taskName: 'log.Log',
      taskDescription: '  Logs a line.  ',
      trigger: false,
      condition: false,
      registry: 'http://127.0.0.1:4873',
    })
    expect(answers).toEqual({
      dir: 'x',
      group: 'acme.tools',
      packageName: 'acme-tools',
      task: { name: 'log.Log', description: 'Logs a line.' },
      trigger: false,
      condition: false,
      registry: 'http://127.0.0.1:4873/',
    })
  })

  it.each([
    [{ group: 'acme' }, 'GROUP_INVALID', 'group "acme" is not valid'],
    [{ group: 'Acme.Pokemon' }, 'GROUP_INVALID', 'group "Acme.Pokemon" is not valid'],
    [
      { packageName: '@9/x' },
      'GROUP_INVALID',
      'cannot derive a plugin group from "@9/x": pass --group',
    ],
    [
      { group: 'acme.x', packageName: 'Bad Name' },
      'PACKAGE_NAME_INVALID',
      'package name "Bad Name"',
    ],
    [{ group: 'acme.x', taskName: 'fetch' }, 'NAME_INVALID', 'task name "fetch" is not valid'],
    [{ group: 'acme.x', taskName: 'NewItems' }, 'NAME_TAKEN', 'clashes with the example trigger'],
    [{ group: 'acme.x', taskName: 'new.Items' }, 'NAME_TAKEN', 'clashes with the example trigger'],
    [{ group: 'acme.x', taskName: 'Contains' }, 'NAME_TAKEN', 'clashes with the example condition'],
    [{ group: 'acme.x', registry: 'ftp://x' }, 'REGISTRY_INVALID', 'is not an http(s) URL'],
    [{ group: 'acme.x', registry: 'nope' }, 'REGISTRY_INVALID', 'registry "nope"'],
  ])('refuses %o with %s', (partial, code, message) => {
    expect(() => resolveAnswers(partial)).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining(message) }),
    )
  })

  it('lets the task take the example names when the example is left out', () => {
    expect(
      resolveAnswers({ group: 'acme.x', taskName: 'NewItems', trigger: false }).task.name,
    ).toBe('NewItems')
    expect(
      resolveAnswers({ group: 'acme.x', taskName: 'Contains', condition: false }).task.name,
    ).toBe('Contains')
  })
})

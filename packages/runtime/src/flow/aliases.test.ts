import { createExpressionEngine } from '@kite/expressions'
import { describe, expect, it } from 'vitest'
import { renamedPlugins } from '../../test/fixtures/plugins.js'
import { flowIssues } from '../../test/flow-issues.js'
import { createPluginCatalog } from '../plugins/plugin-catalog.js'
import { createPluginResolver } from '../plugins/plugin-resolver.js'
import { parseFlow } from './parse-flow.js'
import { validateFlow } from './validate-flow.js'

const catalog = createPluginCatalog(renamedPlugins())
const resolver = createPluginResolver({ catalog })
const expressions = createExpressionEngine()
const validate = (source: string) => validateFlow(parseFlow(source), { resolver, expressions })
const flow = (type: string, extra = '') => `id: aliased
namespace: test
tasks:
  - id: hi
    type: ${type}
    who: Ada${extra}
`

describe('type aliases', () => {
  it('resolves an old type id to the new type of the latest version that declares it, with a warning at the type', () => {
    const validated = validate(flow('test.renamed.Greet', '\n    version: "^2"'))
    const task = validated.tasks.get('hi')
    expect(task?.resolved).toMatchObject({
      type: 'test.renamed.Hello',
      version: '2.1.0',
      alias: { written: 'test.renamed.Greet', since: '2.0.0' },
    })
    expect(validated.plugins[0]).toMatchObject({ type: 'test.renamed.Hello', version: '2.1.0' })
    expect(validated.warnings).toHaveLength(1)
    expect(validated.warnings[0]).toMatchObject({
      path: 'tasks[0].type',
      taskId: 'hi',
      type: 'test.renamed.Greet',
      version: '2.1.0',
      line: 5,
      column: 11,
    })
    expect(validated.warnings[0]?.message).toBe(
      'task "hi": `test.renamed.Greet` is an alias of `test.renamed.Hello` since 2.0.0; rename it',
    )
  })

  it('keeps the old type where a version still provides it, without a warning', () => {
    const validated = validate(flow('test.renamed.Greet', '\n    version: "1.0.0"'))
    expect(validated.tasks.get('hi')?.resolved).toMatchObject({
      type: 'test.renamed.Greet',
      version: '1.0.0',
    })
    expect(validated.tasks.get('hi')?.resolved.alias).toBeUndefined()
    expect(validated.warnings).toEqual([])
  })

  it('follows an alias into another group, only among the versions that declare it', () => {
    const validated = validate(flow('test.oldgroup.Wave'))
    expect(validated.tasks.get('hi')?.resolved).toMatchObject({
      type: 'test.renamed.Hello',
      package: '@test/kite-plugin-renamed',
      version: '2.1.0',
      alias: { since: '2.1.0' },
    })
    const [issue] = flowIssues(() => validate(flow('test.oldgroup.Wave', '\n    version: "2.0.0"')))
    expect(issue?.message).toContain('matches none of the installed versions 1.0.0, 2.0.0, 2.1.0')
  })

  it('validates the properties against the new type: an unknown property is still an error', () => {
    const issues = flowIssues(() => validate(flow('test.renamed.Greet', '\n    whom: Bob')))
    expect(issues.map((issue) => issue.path)).toEqual(['tasks[0].whom'])
  })

  it('an unknown old id is still unknown', () => {
    expect(() => validate(flow('test.renamed.Greeet'))).toThrow(
      /unknown type "test.renamed.Greeet"/,
    )
  })
})

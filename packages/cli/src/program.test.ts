import { describe, expect, it } from 'vitest'
import { runKite } from '../test/kite.js'

// The exit codes: 0 done, 1 an operation that failed, 2 a command line that is wrong.
describe('kite exit codes', { timeout: 60_000 }, () => {
  it('exits 2 for a command line commander refuses, with the problem and the help', async () => {
    const cases = [
      ['executions', 'list', '--no-such-option'],
      ['no-such-command'],
      ['executions', 'show'],
      ['executions', 'show', 'a', 'b'],
      ['server', 'local', '--port', 'eighty'],
    ]
    for (const argv of cases) {
      const result = await runKite(argv)
      expect(result.code, argv.join(' ')).toBe(2)
      expect(result.err, argv.join(' ')).toMatch(/^error: /m)
      expect(result.out, argv.join(' ')).toBe('')
    }
  })

  it('exits 0 for --help and --version', async () => {
    const help = await runKite(['--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('Usage: kite')
    const version = await runKite(['--version'])
    expect(version.code).toBe(0)
    expect(version.out).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('exits 1 when the runtime cannot be reached (the command line was fine)', async () => {
    const result = await runKite(['executions', 'list'], {
      env: { KITE_SERVER: 'http://127.0.0.1:9' },
    })
    expect(result.code).toBe(1)
    expect(result.err).toContain('cannot reach the runtime at http://127.0.0.1:9')
  })
})

import { diffLines } from 'diff'

/**
 * A line diff of two texts (flows' YAML) as the runtime's upgrade report and the UI show it:
 * `  ` same, `- ` removed, `+ ` added; a missing last newline is not a change. Browser-safe
 * (`@kite/sdk/line-diff`), so the UI runs the same function as the runtime.
 */
export const lineDiff = (before: string, after: string): string =>
  diffLines(`${before.replace(/\n$/, '')}\n`, `${after.replace(/\n$/, '')}\n`)
    .flatMap(({ added, removed, value }) =>
      value
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => `${added ? '+' : removed ? '-' : ' '} ${line}`),
    )
    .join('\n')

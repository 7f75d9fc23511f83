/**
 * A line diff (longest common subsequence) in the runtime's format (`  ` same, `- ` removed,
 * `+ ` added): the same function as the runtime's `plugins/upgrade.ts` `lineDiff`, kept here so
 * the page does not load the runtime. Flows are short.
 */
export function lineDiff(before: string, after: string): string {
  const a = before.replace(/\n$/, '').split('\n')
  const b = after.replace(/\n$/, '').split('\n')
  const lengths = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  )
  const at = (i: number, j: number) => lengths[i]?.[j] ?? 0
  for (let i = a.length - 1; i >= 0; i--) {
    const line = lengths[i] as number[]
    for (let j = b.length - 1; j >= 0; j--) {
      line[j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1))
    }
  }
  const lines: string[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push(`  ${a[i++]}`)
      j++
    } else if (i < a.length && (j >= b.length || at(i + 1, j) >= at(i, j + 1))) {
      lines.push(`- ${a[i++]}`)
    } else {
      lines.push(`+ ${b[j++]}`)
    }
  }
  return lines.join('\n')
}

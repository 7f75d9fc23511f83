import type MarkdownIt from 'markdown-it'

export function fillPorts(
  source: string,
  ports?: Readonly<Record<string, number>>,
  where?: string,
): string
export function portsInMarkdown(md: MarkdownIt, ports?: Readonly<Record<string, number>>): void

/** `1.2 s`, `340 ms`, `2 min 3 s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return ''
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

export const formatDate = (iso: string | undefined): string =>
  iso ? new Date(iso).toLocaleString() : ''

/** A task run's or an execution's duration, still counting while it runs. */
export const durationOf = (state: { startDate: string; endDate?: string; duration?: number }) =>
  state.duration ??
  (state.endDate ? Date.parse(state.endDate) : Date.now()) - Date.parse(state.startDate)

/**
 * A plugin type's id without its plugin's group (`kite.scripts.node.Script` → `node.Script`), so
 * types that share a last segment stay apart; the whole id when it is outside the group.
 */
export const typeInGroup = (type: string, group: string | undefined): string =>
  group && type.startsWith(`${group}.`) ? type.slice(group.length + 1) : type

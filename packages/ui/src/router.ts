// Hash routing (`#/flows/ns/id`): works from any static server and needs no server fallback.
import { reactive } from 'vue'

export interface Route {
  /** The path after `#`, without the query. */
  path: string
  segments: string[]
  query: URLSearchParams
}

function read(): Route {
  const hash = location.hash.slice(1) || '/flows'
  const [path = '/flows', search = ''] = hash.split('?', 2)
  return {
    path,
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  }
}

/**
 * A path under the UI (`/ui/plugins`, typed or linked; the runtime answers any of them with the
 * app) is the page of the same hash route: the address becomes `/ui/#/plugins` before the first
 * read, so the page shown, the back button and a reload agree.
 */
function adoptPath(): void {
  const base = import.meta.env.BASE_URL
  if (location.hash || !location.pathname.startsWith(base)) return
  const rest = location.pathname.slice(base.length).replace(/\/+$/, '')
  if (!rest || rest === 'index.html') return
  history.replaceState(history.state, '', `${base}#/${rest}${location.search}`)
}
adoptPath()

export const route = reactive<Route>(read())

addEventListener('hashchange', () => Object.assign(route, read()))

export function navigate(path: string): void {
  location.hash = path
}

/** `#/flows/a.b/c` from segments, each encoded. */
export const href = (...segments: string[]): string =>
  `#/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`

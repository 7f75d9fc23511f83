// Who is logged in (auth contract): `GET /auth/me` first; a runtime without the auth routes yet
// answers 404, which means an open runtime.
import { reactive } from 'vue'
import { api, type Me } from './api'

export const session = reactive<Me & { loaded: boolean }>({
  user: null,
  authRequired: false,
  loaded: false,
})

export async function loadSession(): Promise<void> {
  const me = await api<Me>('/auth/me', { fallback: { user: null, authRequired: false } })
  session.user = me.user
  session.authRequired = me.authRequired
  session.loaded = true
}

/** Admin actions are offered to admins, and to everyone on a runtime without users. */
export const canChange = (): boolean => !session.authRequired || session.user?.role === 'admin'

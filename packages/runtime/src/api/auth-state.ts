import type { Principal } from '../auth/auth-service.js'

/** What the auth middleware decided about a request: who sent it, and whether auth is required. */
export interface AuthState {
  principal?: Principal
  /** False on a runtime without users (open on loopback). */
  required: boolean
}

/** Nobody in particular, on a runtime without users: may do what an open runtime allows. */
export const OPEN_PRINCIPAL: Principal = { kind: 'open', name: 'anonymous', role: 'admin' }

const states = new WeakMap<Request, AuthState>()

/** Records the middleware's decision for the handlers of this request. */
export function setAuthState(request: Request, state: AuthState): void {
  states.set(request, state)
}

/** The auth state of a request (open when the middleware did not see it). */
export function authStateOf(request: Request): AuthState {
  return states.get(request) ?? { principal: OPEN_PRINCIPAL, required: false }
}

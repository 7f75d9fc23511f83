import { createAuthRoutes } from './auth.js'
import { createClusterRoutes } from './cluster.js'
import { createExecutionRoutes } from './executions.js'
import { createFlowRoutes } from './flows.js'
import { createNamespaceRoutes } from './namespaces.js'
import { createPluginRoutes } from './plugins.js'
import type { RouteContext } from './router.js'
import { createServiceRoutes } from './service.js'
import { createTriggerRoutes } from './triggers.js'
import { createUserRoutes } from './users.js'
import { createWebhookRoutes } from './webhooks.js'

/** Where the API is mounted. */
export const API_PREFIX = '/api/v1'

/**
 * Every route of the API, one router per resource, registered the one way: `.route('/', ...)`
 * on the API router. The chained type is what `@kite/client` is typed from.
 */
export function createApiRoutes(context: RouteContext) {
  return createServiceRoutes(context)
    .route('/', createFlowRoutes(context))
    .route('/', createWebhookRoutes(context))
    .route('/', createExecutionRoutes(context))
    .route('/', createPluginRoutes(context))
    .route('/', createNamespaceRoutes(context))
    .route('/', createTriggerRoutes(context))
    .route('/', createClusterRoutes(context))
    .route('/', createAuthRoutes(context))
    .route('/', createUserRoutes(context))
}

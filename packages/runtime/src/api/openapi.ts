import { OpenAPIHono } from '@hono/zod-openapi'

/** An OpenAPI 3.1 document. */
export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>

import { RuntimeError } from '../errors.js'
import { API_PREFIX, createApiRoutes } from './routes.js'

/** The OpenAPI 3.1 document of an app with the API mounted (what `/api/v1/openapi.json` serves). */
export function openApiDocumentOf(app: OpenAPIHono, version: string): OpenApiDocument {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Kite runtime API',
      version,
      description:
        'Flows, executions, logs and their live stream, plugins, namespaces and triggers. Every error is JSON with a `message`, a `code` and, for validation errors, `errors: [{ path, message, line? }]`.',
    },
  })
}

/**
 * The OpenAPI document, generated from the routes themselves: no runtime is needed because no
 * handler runs. The docs site renders its API page from it.
 */
export function createOpenApiDocument(version: string): OpenApiDocument {
  const context = {
    version,
    get runtime(): never {
      throw new RuntimeError('the OpenAPI document is built without a runtime', {
        code: 'INTERNAL',
      })
    },
  }
  return openApiDocumentOf(new OpenAPIHono().route(API_PREFIX, createApiRoutes(context)), version)
}

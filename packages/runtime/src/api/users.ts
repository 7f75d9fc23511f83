import { z } from '@hono/zod-openapi'
import { authStateOf } from './auth-state.js'
import type { RouteContext } from './router.js'
import { authServiceOf, checkAdmin, errorAnswer, jsonAnswer, resource } from './router.js'
import { ApiToken, CreatedToken, NewToken, NewUser, pathParam, User } from './schemas.js'

const { adminRoute, router } = resource('Users and tokens')

const listUsers = adminRoute('get', '/users', {
  summary: 'The users who may log in',
  responses: { 200: jsonAnswer(z.array(User), 'Every user, by name.') },
})

const addUser = adminRoute('post', '/users', {
  summary: 'Add a user',
  description: `The password is stored as a scrypt hash.`,
  request: { body: { required: true, content: { 'application/json': { schema: NewUser } } } },
  responses: {
    201: jsonAnswer(User, 'The new user.'),
    400: errorAnswer('A bad name, role or password.'),
    409: errorAnswer('A user of that name exists.'),
  },
})

const removeUser = adminRoute('delete', '/users/{name}', {
  summary: 'Remove a user (their sessions end and their tokens are revoked)',
  request: { params: z.object({ name: pathParam('name', 'The user name.') }) },
  responses: {
    204: { description: 'Removed.' },
    404: errorAnswer('No such user.'),
    409: errorAnswer('The last admin cannot be removed.'),
  },
})

const listTokens = adminRoute('get', '/tokens', {
  summary: 'The API tokens (never the tokens themselves)',
  responses: {
    200: jsonAnswer(z.array(ApiToken), 'Every token, revoked ones too.'),
  },
})

const createToken = adminRoute('post', '/tokens', {
  summary: 'Create an API token (shown once)',
  description: `Send it as \`Authorization: Bearer <token>\`.`,
  request: { body: { required: true, content: { 'application/json': { schema: NewToken } } } },
  responses: {
    201: jsonAnswer(CreatedToken, 'The token, with the secret shown this once.'),
    400: errorAnswer('A bad name or role.'),
  },
})

const revokeToken = adminRoute('delete', '/tokens/{id}', {
  summary: 'Revoke an API token (it stops working at once)',
  request: { params: z.object({ id: pathParam('id', 'The token id (`tok_...`).') }) },
  responses: {
    204: { description: 'Revoked.' },
    404: errorAnswer('No live token with that id.'),
  },
})

/** `/users` and `/tokens`: who may log in and which API tokens exist (admins only). */
export function createUserRoutes(context: RouteContext) {
  const service = (request: Request) => {
    checkAdmin(context, request)
    return authServiceOf(context)
  }
  return router()
    .openapi(listUsers, async (c) => c.json(await service(c.req.raw).listUsers(), 200))
    .openapi(addUser, async (c) =>
      c.json(await service(c.req.raw).addUser(c.req.valid('json')), 201),
    )
    .openapi(removeUser, async (c) => {
      await service(c.req.raw).removeUser(c.req.valid('param').name)
      return c.body(null, 204)
    })
    .openapi(listTokens, async (c) => c.json(await service(c.req.raw).listTokens(), 200))
    .openapi(createToken, async (c) => {
      const auth = service(c.req.raw)
      const body = c.req.valid('json')
      const { principal } = authStateOf(c.req.raw)
      const { token, info } = await auth.createToken({
        name: body.name,
        role: body.role ?? principal?.role ?? 'viewer',
        owner: principal?.name ?? 'anonymous',
      })
      return c.json({ ...info, token }, 201)
    })
    .openapi(revokeToken, async (c) => {
      await service(c.req.raw).revokeToken(c.req.valid('param').id)
      return c.body(null, 204)
    })
}

import type { HonoRequest } from 'hono'
import { RuntimeError } from '../errors.js'
import { UploadedFile } from '../executor/inputs.js'

/**
 * FILE inputs sent as multipart/form-data, shared by the execution and webhook routes. The size
 * limit (`executions.maxUploadBytes`, 413 before anything is read) is applied in `app.ts`.
 */

/** True when the request's body is multipart/form-data. */
export const isMultipart = (request: HonoRequest): boolean =>
  (request.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')

/** Multipart fields as inputs: text as it is, file parts as `UploadedFile`s (read whole). */
export async function formInputs(form: Record<string, unknown>): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(form)) {
    inputs[key] = Array.isArray(value)
      ? await Promise.all(value.map(uploaded(key)))
      : await uploaded(key)(value)
  }
  return inputs
}

const uploaded = (key: string) => async (value: unknown) =>
  value instanceof File
    ? new UploadedFile(value.name || key, new Uint8Array(await value.arrayBuffer()))
    : value

/**
 * Reads a multipart/form-data body into inputs (for a route whose body is not validated as a
 * form): a body that does not parse is a 400, not a 500; a repeated field is a list.
 */
export async function readFormInputs(request: HonoRequest): Promise<Record<string, unknown>> {
  let data: FormData
  try {
    data = await request.formData()
  } catch (error) {
    throw new RuntimeError(
      `the body is not valid multipart/form-data: ${(error as Error).message}`,
      { code: 'REQUEST_INVALID', issues: [{ path: 'body', message: 'not multipart/form-data' }] },
    )
  }
  const form: Record<string, unknown> = {}
  for (const [key, value] of data.entries()) {
    const earlier = form[key]
    form[key] = earlier === undefined ? value : [earlier, value].flat()
  }
  return formInputs(form)
}

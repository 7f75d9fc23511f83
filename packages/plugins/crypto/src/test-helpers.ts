import type { AnyTask } from '@kite/sdk'
import { invokeTask } from '@kite/sdk/host'
import { createTestContext, type TestContext } from '@kite/sdk/testing'
import { afterAll } from 'vitest'

const contexts: TestContext[] = []
afterAll(async () => {
  await Promise.all(contexts.map((context) => context.cleanup()))
})

/** One run context whose internal storage several task runs share (`runTask` gives each its own). */
export async function sharedContext() {
  const context = await createTestContext()
  contexts.push(context)
  return {
    context,
    store: (name: string, content: string | Uint8Array) => context.ctx.storage.put(name, content),
    read: (uri: string) => context.ctx.storage.get(uri),
    run: (task: AnyTask, properties: Record<string, unknown>) =>
      invokeTask(task, properties, context.ctx),
  }
}

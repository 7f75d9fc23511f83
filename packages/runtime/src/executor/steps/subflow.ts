import { isRuntimeError, messageOf } from '../../errors.js'
import type { SubflowTask } from '../../flow/flow-model.js'
import { createId } from '../../ids.js'
import type { ExecutionSummary, TaskRun, TaskRunState } from '../execution-model.js'
import type { ExecutionRunner } from '../execution-runner.js'
import { type Scope, Shutdown } from './shared.js'

/** `kite.flow.Subflow`: starts a child execution (its id recorded first) and may wait for it. */
export async function runSubflow(
  r: ExecutionRunner,
  task: SubflowTask,
  scope: Scope,
  existing: TaskRun | undefined,
): Promise<TaskRunState> {
  let run = existing
  if (!run) {
    let target: SubflowTarget
    try {
      target = renderTarget(r, task, scope)
    } catch (error) {
      const failed = r.createRun(task, scope, 'RUNNING')
      return r.failRun(failed, task.allowFailure, messageOf(error))
    }
    // The child's id is recorded before the child exists, so a restart never starts it twice.
    run = r.createRun(task, scope, 'RUNNING')
    run.outputs = { executionId: createId(), namespace: target.namespace, flowId: target.flowId }
    await r.save([run])
    const failed = await startChild(r, task, run, target)
    if (failed) return failed
  } else if (r.stopped(scope)) {
    await r.deps.kill(String(run.outputs?.executionId)).catch(() => {})
  } else if (!(await r.deps.store.getExecution(String(run.outputs?.executionId)))) {
    // The previous executor died between recording the child's id and starting it.
    let target: SubflowTarget
    try {
      target = renderTarget(r, task, scope)
    } catch (error) {
      return r.failRun(run, task.allowFailure, messageOf(error))
    }
    const failed = await startChild(r, task, run, target)
    if (failed) return failed
  }
  const childId = String(run.outputs?.executionId)
  if (!task.wait) {
    run.outputs = { executionId: childId }
    r.expose(task.id, scope.valueKeys, run.outputs)
    return r.endRun(run, 'SUCCESS')
  }
  r.children.add(childId)
  // A flowable around it that times out kills the child execution.
  const killChild = () => {
    r.deps.kill(childId).catch(() => {})
  }
  scope.signal?.addEventListener('abort', killChild, { once: true })
  let child: ExecutionSummary
  try {
    child = await r.deps.waitForEnd(childId)
  } catch (error) {
    if (r.deps.closing) throw new Shutdown()
    return r.failRun(run, task.allowFailure, messageOf(error))
  } finally {
    r.children.delete(childId)
    scope.signal?.removeEventListener('abort', killChild)
  }
  if (r.deps.closing) throw new Shutdown()
  const state = child.state.current
  run.outputs = { executionId: childId, state, outputs: child.outputs ?? {} }
  r.expose(task.id, scope.valueKeys, run.outputs)
  if (r.stopped(scope)) return r.endRun(run, 'KILLED')
  if (state === 'SUCCESS' || state === 'WARNING') return r.endRun(run, state)
  if (!task.transmitFailed) return r.endRun(run, 'SUCCESS')
  return r.failRun(
    run,
    task.allowFailure,
    `subflow ${child.namespace}/${child.flowId} execution ${childId} ended ${state}${child.error ? `: ${child.error}` : ''}`,
  )
}

interface SubflowTarget {
  namespace: string
  flowId: string
  inputs: Record<string, unknown>
  labels: Record<string, string>
}

function renderTarget(r: ExecutionRunner, task: SubflowTask, scope: Scope): SubflowTarget {
  const variables = r.variables(scope, task)
  const render = (value: unknown) => r.deps.expressions.renderDeep(value, variables)
  return {
    namespace: String(render(task.namespace)),
    flowId: String(render(task.flowId)),
    inputs: render(task.inputs) as Record<string, unknown>,
    labels: Object.fromEntries(
      Object.entries(render(task.labels) as Record<string, unknown>).map(([key, value]) => [
        key,
        String(value),
      ]),
    ),
  }
}

/** Starts the child under the id the task run recorded; the failed state when it cannot. */
async function startChild(
  r: ExecutionRunner,
  task: SubflowTask,
  run: TaskRun,
  target: SubflowTarget,
): Promise<TaskRunState | undefined> {
  try {
    await r.deps.startChild({
      id: String(run.outputs?.executionId),
      namespace: target.namespace,
      flowId: target.flowId,
      ...(task.revision === undefined ? {} : { revision: task.revision }),
      inputs: target.inputs,
      labels: target.labels,
      parent: {
        executionId: r.execution.id,
        namespace: r.execution.namespace,
        flowId: r.execution.flowId,
        taskRunId: run.id,
        taskId: task.id,
      },
      trigger: {
        id: task.id,
        type: task.type,
        variables: {
          executionId: r.execution.id,
          namespace: r.execution.namespace,
          flowId: r.execution.flowId,
          flowRevision: r.execution.flowRevision,
        },
      },
    })
    return undefined
  } catch (error) {
    if (r.deps.closing) throw new Shutdown()
    // Started already under the recorded id (by an executor that held this execution before).
    if (isRuntimeError(error) && error.code === 'EXECUTION_EXISTS') return undefined
    return r.failRun(run, task.allowFailure, `cannot start the subflow: ${messageOf(error)}`)
  }
}

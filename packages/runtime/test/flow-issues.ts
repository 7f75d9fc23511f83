import { isRuntimeError, type ValidationIssue } from '../src/errors.js'

/**
 * The issues of the `FLOW_INVALID` error `check` throws (parsing or validating a flow); fails the
 * test when it throws something else or nothing.
 */
export function flowIssues(check: () => unknown): ValidationIssue[] {
  try {
    check()
  } catch (error) {
    if (isRuntimeError(error) && error.code === 'FLOW_INVALID') return error.issues
    throw error
  }
  throw new Error('the flow is valid')
}

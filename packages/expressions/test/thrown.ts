import { expect } from 'vitest'
import { createExpressionEngine, type ExpressionContext, ExpressionError } from '../src/index'

/** Runs `run` and returns the ExpressionError it throws (failing the test if it does not). */
export function thrown(run: () => unknown): ExpressionError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError)
    return error as ExpressionError
  }
  throw new Error('expected an ExpressionError')
}

const defaultEngine = createExpressionEngine()

/** The ExpressionError rendering `template` with `vars` throws (on a default engine unless given). */
export function renderError(
  template: string,
  vars: ExpressionContext = {},
  engine = defaultEngine,
): ExpressionError {
  return thrown(() => engine.render(template, vars))
}

export { DATE_FORMAT_NAMES, DATE_UNITS } from './date-time'
export {
  BUILTIN_FILTERS,
  BUILTIN_FUNCTIONS,
  BUILTIN_TESTS,
  createExpressionEngine,
  type ExpressionContext,
  type ExpressionEngine,
  type ExpressionEngineOptions,
  hasExpression,
} from './engine'
export {
  ExpressionError,
  type ExpressionErrorCode,
  type ExpressionErrorKind,
  type ExpressionErrorOptions,
  isExpressionError,
} from './expression-error'
export { type ExpressionReference, expressionReferences } from './references'
export { closestName, listNames } from './suggest'

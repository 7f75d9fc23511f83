import { definePlugin } from '@kite/sdk'
import { __CONDITION_VAR__ } from './__CONDITION_FILE__.js' // #if condition
import { __TASK_VAR__ } from './__TASK_FILE__.js'
import { __TRIGGER_VAR__ } from './__TRIGGER_FILE__.js' // #if trigger

/** The plugin: its group, and every task, trigger and condition it provides. */
export default definePlugin({
  group: '__GROUP__',
  title: '__TITLE__',
  description: '__DESCRIPTION__',
  tasks: [__TASK_VAR__],
  triggers: [__TRIGGER_VAR__], // #if trigger
  conditions: [__CONDITION_VAR__], // #if condition
})

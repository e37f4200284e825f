/** The scanners SecuLite knows (tool definitions), with availability and option schemas. */
import { apiPatch } from './client'
import { listAll } from './pagination'
import { endpoint, type Schemas } from './types'

/** The subset of JSON Schema that plugins use for their options (`overrides_schema`). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  enum?: Array<string | number>
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  description?: string
  title?: string
  default?: unknown
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  pattern?: string
  format?: string
  additionalProperties?: boolean
}

/** The schema leaves `target_types` and `overrides_schema` untyped; these are their shapes. */
export type ToolDefinition = Omit<
  Schemas['ToolDefinition'],
  'target_types' | 'overrides_schema'
> & {
  readonly target_types: string[]
  readonly overrides_schema: JsonSchema
}

export function listToolDefinitions(): Promise<ToolDefinition[]> {
  return listAll<ToolDefinition>(endpoint('/tooldefinitions/'))
}

/** Staff only: enable or disable a tool for everyone. */
export function setToolEnabled(toolId: string, enabled: boolean): Promise<ToolDefinition> {
  return apiPatch<ToolDefinition>(endpoint('/tooldefinitions/{tool_id}/', { tool_id: toolId }), {
    enabled,
  })
}

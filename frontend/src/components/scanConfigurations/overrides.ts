/**
 * Reading a plugin's `overrides_schema` (a small JSON Schema) into form fields, and checking
 * values against it before they are sent. The server validates with the same schema
 * (jsonschema); this check only spares a round trip for the obvious mistakes.
 */
import type { JsonSchema } from '@/api/tools'

export type Overrides = Record<string, unknown>

export type FieldKind =
  'boolean' | 'enum' | 'integer' | 'number' | 'string' | 'multi-enum' | 'string-list'

export interface OverrideField {
  key: string
  label: string
  kind: FieldKind | 'unsupported'
  schema: JsonSchema
  description: string
  options: Array<string | number>
}

export function humanize(key: string): string {
  const text = key.replace(/[_-]+/g, ' ').trim()
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function kindOf(schema: JsonSchema): FieldKind | 'unsupported' {
  if (schema.enum) return 'enum'
  switch (schema.type) {
    case 'boolean':
      return 'boolean'
    case 'integer':
      return 'integer'
    case 'number':
      return 'number'
    case 'string':
      return 'string'
    case 'array':
      if (schema.items?.enum) return 'multi-enum'
      if (!schema.items || schema.items.type === 'string' || schema.items.type === undefined) {
        return 'string-list'
      }
      return 'unsupported'
    default:
      return 'unsupported'
  }
}

/** The form fields of a schema, in the schema's order. */
export function fieldsOf(schema: JsonSchema | null | undefined): OverrideField[] {
  return Object.entries(schema?.properties ?? {}).map(([key, property]) => ({
    key,
    label: property.title ?? humanize(key),
    kind: kindOf(property),
    schema: property,
    description: property.description ?? '',
    options: property.enum ?? property.items?.enum ?? [],
  }))
}

/** One entry per line (or comma), trimmed, without empty ones. */
export function parseList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter(Boolean)
}

function checkString(value: string, schema: JsonSchema): string | null {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return `At least ${schema.minLength} characters.`
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    return `At most ${schema.maxLength} characters.`
  }
  if (schema.pattern) {
    try {
      if (!new RegExp(schema.pattern, 'u').test(value)) return `“${value}” has the wrong form.`
    } catch {
      // A pattern JavaScript cannot read is left to the server.
    }
  }
  if (schema.format === 'regex') {
    try {
      new RegExp(value)
    } catch {
      return `“${value}” is not a regular expression.`
    }
  }
  return null
}

function checkNumber(value: number, schema: JsonSchema, integer: boolean): string | null {
  if (!Number.isFinite(value)) return 'Enter a number.'
  if (integer && !Number.isInteger(value)) return 'Enter a whole number.'
  if (schema.minimum !== undefined && value < schema.minimum) return `At least ${schema.minimum}.`
  if (schema.maximum !== undefined && value > schema.maximum) return `At most ${schema.maximum}.`
  return null
}

/** Problems by field key; an empty object means the values look acceptable. */
export function validateOverrides(schema: JsonSchema, values: Overrides): Record<string, string> {
  const problems: Record<string, string> = {}
  for (const field of fieldsOf(schema)) {
    const value = values[field.key]
    if (value === undefined) continue
    let problem: string | null = null
    switch (field.kind) {
      case 'integer':
      case 'number':
        problem = checkNumber(value as number, field.schema, field.kind === 'integer')
        break
      case 'string':
        problem = checkString(String(value), field.schema)
        break
      case 'enum':
        if (!field.options.includes(value as string | number))
          problem = 'Choose one of the options.'
        break
      case 'multi-enum':
      case 'string-list': {
        const list = value as unknown[]
        const { minItems, maxItems } = field.schema
        if (minItems !== undefined && list.length < minItems) {
          problem = `Choose at least ${minItems}.`
        } else if (maxItems !== undefined && list.length > maxItems) {
          problem = `At most ${maxItems} entries.`
        } else if (field.schema.uniqueItems && new Set(list).size !== list.length) {
          problem = 'An entry is listed twice.'
        } else if (field.kind === 'string-list' && field.schema.items) {
          for (const item of list) {
            problem = checkString(String(item), field.schema.items)
            if (problem) break
          }
        }
        break
      }
    }
    if (problem) problems[field.key] = problem
  }
  return problems
}

/**
 * The server reports override problems as `tools_and_configs: ["<index>: <tool> <path>: ..."]`
 * (apps/scans/services/configurations.py validate_tools). Sort them to the tool they name.
 */
export function toolErrorsByIndex(messages: string[]): {
  byIndex: Map<number, string[]>
  rest: string[]
} {
  const byIndex = new Map<number, string[]>()
  const rest: string[] = []
  for (const message of messages) {
    const match = /^(\d+): (.*)$/s.exec(message)
    if (match) {
      const index = Number(match[1])
      byIndex.set(index, [...(byIndex.get(index) ?? []), match[2] ?? message])
    } else {
      rest.push(message)
    }
  }
  return { byIndex, rest }
}

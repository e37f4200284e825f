#!/usr/bin/env node
/**
 * `npm run check:api [-- <fresh-openapi.json>]`: fail when the committed API types are stale.
 *
 * Regenerates the types with openapi-typescript into a temporary directory, from
 * src/api/openapi.json (or from the schema file given, e.g. one the backend just exported),
 * and compares them with the committed src/api/schema.d.ts. With a schema file given, the
 * committed src/api/openapi.json must also equal it (as JSON). Exit 1 names what to run.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const committedSchema = join(root, 'src/api/openapi.json')
const committedTypes = join(root, 'src/api/schema.d.ts')
const source = process.argv[2] ? resolve(process.argv[2]) : committedSchema
const bin = join(root, 'node_modules/.bin/openapi-typescript')

const FIX =
  'Regenerate and commit them:\n' +
  '  cd backend && .venv/bin/python manage.py spectacular --format openapi-json --file ../frontend/src/api/openapi.json\n' +
  '  cd frontend && npm run gen:api'

function fail(message) {
  console.error(`check:api: ${message}\n${FIX}`)
  process.exit(1)
}

function read(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fail(`cannot read ${path}.`)
  }
}

if (source !== committedSchema) {
  let fresh, committed
  try {
    fresh = JSON.parse(read(source))
    committed = JSON.parse(read(committedSchema))
  } catch (error) {
    fail(`a schema file is not JSON (${error.message}).`)
  }
  if (JSON.stringify(fresh) !== JSON.stringify(committed)) {
    fail(`src/api/openapi.json differs from the backend's schema (${source}).`)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'seculite-api-'))
try {
  const generated = join(dir, 'schema.d.ts')
  const run = spawnSync(bin, [source, '--output', generated], { cwd: root, encoding: 'utf8' })
  if (run.status !== 0) {
    fail(`openapi-typescript failed on ${source}:\n${run.stderr || run.stdout}`)
  }
  if (read(generated) !== read(committedTypes)) {
    fail(`src/api/schema.d.ts is stale: it is not what openapi-typescript makes from ${source}.`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log('check:api: src/api/schema.d.ts matches the OpenAPI schema.')

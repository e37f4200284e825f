#!/usr/bin/env node
/**
 * After `vite build`: the initial JavaScript a browser loads for the first page (the entry
 * script and the chunks index.html preloads), gzipped. Fails above the budget of issue 6.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const BUDGET_KB = 200
const dist = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist')
const html = readFileSync(join(dist, 'index.html'), 'utf8')

const files = new Set()
for (const match of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) files.add(match[1])
for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) files.add(match[1])

let total = 0
for (const file of files) {
  const size = gzipSync(readFileSync(join(dist, file.replace(/^\//, '')))).length
  total += size
  console.log(`  ${file}  ${(size / 1024).toFixed(1)} kB gzipped`)
}
const kb = total / 1024
console.log(`Initial JavaScript: ${kb.toFixed(1)} kB gzipped (budget ${BUDGET_KB} kB); routes load lazily.`)
if (kb > BUDGET_KB) {
  console.error(`bundle-size: over budget by ${(kb - BUDGET_KB).toFixed(1)} kB.`)
  process.exit(1)
}

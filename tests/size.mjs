// Raw and gzip -9 sizes of the shipped files, and of what each host loads.
//   node tests/size.mjs build/pkg [--json]
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const dir = process.argv[2] || 'build/pkg'
const gz = (buf) => gzipSync(buf, { level: 9 }).length
const files = readdirSync(dir).filter((f) => /\.(wasm|js|cjs|mjs)$/.test(f)).sort()
const rows = files.map((f) => {
  const buf = readFileSync(join(dir, f))
  return { file: f, raw: buf.length, gz: gz(buf) }
})
const by = Object.fromEntries(rows.map((r) => [r.file, r]))
const sum = (names) => names.reduce((a, n) => ({ raw: a.raw + (by[n]?.raw ?? 0), gz: a.gz + (by[n]?.gz ?? 0) }), { raw: 0, gz: 0 })
const hosts = {
  'browser (wasm + glue + entry)': sum(['freshtoken_bg.wasm', 'freshtoken.js', 'browser.js']),
  'workerd (wasm + glue + entry)': sum(['freshtoken_bg.wasm', 'freshtoken.js', 'workerd.js']),
  'node (wasm + cjs glue + entry)': sum(['freshtoken_bg.wasm', 'freshtoken.cjs', 'node.mjs']),
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ files: rows, hosts }, null, 2))
} else {
  console.log('file'.padEnd(34) + 'raw'.padStart(9) + 'gzip -9'.padStart(9))
  for (const r of rows) console.log(r.file.padEnd(34) + String(r.raw).padStart(9) + String(r.gz).padStart(9))
  for (const [h, s] of Object.entries(hosts)) console.log(h.padEnd(34) + String(s.raw).padStart(9) + String(s.gz).padStart(9))
}

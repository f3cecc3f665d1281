// Raw and gzip -9 sizes of the shipped files, and of what each host loads.
//   node tests/size.mjs build/pkg [--json] [--check size-budget.json]
// With --check, exits 1 when what any host loads (gzip -9) exceeds the checked-in budget.
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
}
// Node reads from disk, not the network. Plain Node reads the .wasm beside the glue; a server
// bundle carries the same bytes base64 in a .cjs. Shown, not budgeted.
const disk = {
  'node (wasm + cjs glue + entry)': sum(['freshtoken_bg.wasm', 'freshtoken.cjs', 'node.mjs']),
  'node bundle (base64 wasm + cjs glue)': sum(['freshtoken_bg.cjs', 'freshtoken.cjs']),
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ files: rows, hosts, disk }, null, 2))
} else {
  console.log('file'.padEnd(34) + 'raw'.padStart(9) + 'gzip -9'.padStart(9))
  for (const r of rows) console.log(r.file.padEnd(34) + String(r.raw).padStart(9) + String(r.gz).padStart(9))
  for (const [h, s] of Object.entries({ ...hosts, ...disk })) console.log(h.padEnd(34) + String(s.raw).padStart(9) + String(s.gz).padStart(9))
}

const check = process.argv.indexOf('--check')
if (check > 0) {
  const budget = JSON.parse(readFileSync(process.argv[check + 1], 'utf8'))
  const [host, worst] = Object.entries(hosts).sort((a, b) => b[1].gz - a[1].gz)[0]
  if (worst.gz > budget.maxHostGzipBytes) {
    console.error(`size budget exceeded: ${host} is ${worst.gz} bytes gzip -9, budget ${budget.maxHostGzipBytes} (${process.argv[check + 1]}). ` +
      'The budget rises only with a new feature, by what it costs, stated in the commit.')
    process.exit(1)
  }
  console.log(`size budget ok: ${host} ${worst.gz} <= ${budget.maxHostGzipBytes} bytes gzip -9`)
}

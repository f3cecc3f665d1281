// Shortens the wasm's import and export names, and the glue's references to them, after
// wasm-pack. wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` under the module
// "./freshtoken_bg.js", and the hashes do not compress: the names were 4.7 KB of the wasm
// and as much again of the glue. binaryen renames them (`a`, `b`, … under the module `a`) and
// prints the mapping; this applies it to each glue, then checks that no old name is left.
//   node tools/minify-names.mjs <freshtoken_bg.wasm> <glue.js>...
import { execFileSync } from 'node:child_process'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'

const [wasmPath, ...glues] = process.argv.slice(2)
const MODULE = './freshtoken_bg.js'
// The features the shipped module uses (its target-features section is stripped by then).
const FEATURES = ['bulk-memory', 'bulk-memory-opt', 'reference-types', 'multivalue', 'sign-ext', 'nontrapping-float-to-int', 'mutable-globals']

const out = wasmPath + '.min'
const printed = execFileSync('wasm-opt', [wasmPath, ...FEATURES.map((f) => `--enable-${f}`),
  '--minify-imports-and-exports-and-modules', '--strip-target-features', '-o', out]).toString()
const mapping = JSON.parse(printed)
const minified = new WebAssembly.Module(readFileSync(out))
const modules = [...new Set(WebAssembly.Module.imports(minified).map((i) => i.module))]
if (modules.length !== 1) throw new Error(`expected one import module, got ${modules}`)

const word = (name) => new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g')
for (const glue of glues) {
  let js = readFileSync(glue, 'utf8')
  if (!js.includes(JSON.stringify(MODULE))) throw new Error(`${glue}: no ${MODULE} import module`)
  js = js.replaceAll(JSON.stringify(MODULE), JSON.stringify(modules[0]))
  for (const [module, from, to] of mapping.imports) {
    if (module !== MODULE) throw new Error(`unexpected import module ${module}`)
    const keyed = new RegExp(`^(\\s*)${from}:`, 'm')
    if (!keyed.test(js)) throw new Error(`${glue}: import ${from} is not a key of the imports object`)
    js = js.replace(keyed, `$1${to}:`)
  }
  for (const [from, to] of mapping.exports) js = js.replace(new RegExp(`\\bwasm\\.${from}\\b`, 'g'), `wasm.${to}`)
  for (const [, from] of mapping.imports) if (word(from).test(js)) throw new Error(`${glue}: import ${from} still named`)
  for (const [from] of mapping.exports) if (new RegExp(`\\bwasm\\.${from}\\b`).test(js)) throw new Error(`${glue}: export ${from} still named`)
  writeFileSync(glue, js)
}
renameSync(out, wasmPath)
console.log(`minify-names: ${mapping.imports.length} imports, ${mapping.exports.length} exports renamed in the wasm and ${glues.length} glues`)

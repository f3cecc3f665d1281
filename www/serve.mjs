// `make demo`: the bundled EdgeTag-shaped token server plus this page, on 127.0.0.1 only.
//   node www/serve.mjs [--port 47900] [--token-port 47901] [--lifetime 30] [--rotate]
// The page loads the built package (build/pkg) at /node_modules/freshtoken/, through an
// import map, exactly as a user's `import 'freshtoken'` in a browser would resolve.
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTokenServer } from '../tests/server/token-server.mjs'

const WWW = fileURLToPath(new URL('.', import.meta.url))
const PKG = fileURLToPath(new URL('../build/pkg/', import.meta.url))
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json' }

/** Starts both servers; `port: 0` picks free ports (tests). */
export async function startDemo({ port = 47900, tokenPort = 47901, lifetimeSec = 30, rotate = false } = {}) {
  const tokens = await startTokenServer({ port: tokenPort, lifetimeSec, rotate })
  const config = JSON.stringify({
    tokenUrl: tokens.tokenUrl,
    authorizeUrl: tokens.origin + '/oauth/app/login',
    resourceUrl: tokens.origin + '/v1/resource',
    controlUrl: tokens.origin + '/control',
    clientId: tokens.config.clientId,
    clientSecret: tokens.config.clientSecret,
    refreshToken: tokens.config.refreshToken,
    lifetimeSec,
    rotate,
  })
  const page = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    if (path === '/config.json') return send(res, 200, '.json', config)
    const [root, rel] = path.startsWith('/node_modules/freshtoken/')
      ? [PKG, path.slice('/node_modules/freshtoken/'.length)]
      : [WWW, path === '/' ? 'index.html' : path.slice(1)]
    const file = normalize(join(root, rel))
    if (!file.startsWith(root) || file.endsWith(sep) || file.endsWith('serve.mjs')) return send(res, 404, '.txt', 'not found')
    try {
      send(res, 200, extname(file), await readFile(file))
    } catch {
      send(res, 404, '.txt', 'not found')
    }
  })
  await new Promise((resolve, reject) => {
    page.once('error', reject)
    page.listen(port, '127.0.0.1', resolve)
  })
  const url = `http://127.0.0.1:${page.address().port}/`
  return {
    url,
    tokens,
    close: async () => {
      page.closeAllConnections()
      await new Promise((r) => page.close(r))
      await tokens.close()
    },
  }
}

function send(res, status, ext, body) {
  res.writeHead(status, { 'content-type': TYPES[ext] || 'text/plain', 'cache-control': 'no-store' })
  res.end(body)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const flag = (name, dflt) => { const i = args.indexOf(name); return i < 0 ? dflt : Number(args[i + 1]) }
  const demo = await startDemo({
    port: flag('--port', 47900),
    tokenPort: flag('--token-port', 47901),
    lifetimeSec: flag('--lifetime', 30),
    rotate: args.includes('--rotate'),
  })
  console.log(`\nfreshtoken demo: open ${demo.url}`)
  console.log(`token server:    ${demo.tokens.tokenUrl} (tokens live ${flag('--lifetime', 30)} s)`)
  console.log('Ctrl-C stops both.')
  const stop = () => demo.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

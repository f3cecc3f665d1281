# freshtoken — build and test entry point. README.md gives the two commands a newcomer
# runs: `make demo` and `make test`. Both install what they need through .ci/setup.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/tests/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TEST_PORT ?= 47811
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
RUST_SRC := $(shell find src -name '*.rs') Cargo.toml Cargo.lock
PKG_FILES := $(wildcard pkg-template/*)
WASM_PACK := wasm-pack build --release --no-pack --no-typescript
FEATURES ?= shipped
SERVE := node tests/server/serve.mjs --port $(TEST_PORT) --

.PHONY: help setup build pkg pack demo test lint test-native test-wasm test-js size bench fuzz fuzz-long clean

help:
	@echo "make demo   freshtoken keeping a token fresh against a bundled local token server"
	@echo "make test   every test (installs what it needs first)"
	@echo "make pack   dist/freshtoken-$(VERSION).tgz"
	@echo "make bench  speed, memory and cold start against pure JS and oauth4webapi"

setup:
	@bash .ci/setup

# One cargo build serves both glues: the .wasm is byte-identical for --target web and nodejs.
build/web/freshtoken.js build/node/freshtoken.js &: $(RUST_SRC)
	$(WASM_PACK) --target web --out-dir build/web -- --features $(FEATURES)
	$(WASM_PACK) --target nodejs --out-dir build/node -- --features $(FEATURES)
	cmp build/web/freshtoken_bg.wasm build/node/freshtoken_bg.wasm
	# Short import and export names in the wasm and both glues: -1.9 KB gzip of wasm.
	node tools/minify-names.mjs build/web/freshtoken_bg.wasm build/web/freshtoken.js build/node/freshtoken.js
	cp build/web/freshtoken_bg.wasm build/node/freshtoken_bg.wasm

build: build/web/freshtoken.js

build/pkg/package.json: build/web/freshtoken.js build/node/freshtoken.js $(PKG_FILES) README.md Makefile
	rm -rf build/pkg && mkdir -p build/pkg
	cp pkg-template/* README.md build/pkg/
	cp build/web/freshtoken_bg.wasm build/pkg/
	# The glue, minified (wasm-bindgen's output carries every doc comment): −2.4 KB gzip.
	esbuild build/web/freshtoken.js --minify --format=esm --target=es2022 --log-level=warning --outfile=build/pkg/freshtoken.js
	# Node: the wasm also inline (base64 in freshtoken_bg.cjs), for when it cannot be read from beside the glue: server
	# bundlers (Next.js webpack and Turbopack, SSR included) move the glue and cannot see the file.
	# Node's global Buffer, not require('node:buffer'): an esbuild ESM bundle has no require.
	node -e "const f=require('fs');f.writeFileSync('build/pkg/freshtoken_bg.cjs','module.exports=Buffer.from(\"'+f.readFileSync('build/web/freshtoken_bg.wasm','base64')+'\",\"base64\")\n')"
	grep -q "^const wasmBytes = require('fs').readFileSync(wasmPath);$$" build/node/freshtoken.js || { echo "wasm-bindgen's nodejs glue changed: update the Makefile's wasm line"; exit 1; }
	# The .wasm beside the glue when it is there (plain Node: no 154 KB of base64 to parse),
	# else the inline copy (a bundle, where the file is not beside the glue).
	# util.inspect.custom is Symbol.for('nodejs.util.inspect.custom') (Node's docs): no
	# require('util'), which fails at load in an esbuild ESM bundle for Node.
	grep -q '^const { inspect } = require(`util`);$$' build/node/freshtoken.js || { echo "wasm-bindgen's nodejs glue changed: update the Makefile's inspect line"; exit 1; }
	sed -e '/^const wasmPath = /d' -e "s|^const { inspect } = require(\`util\`);$$|const inspect = { custom: Symbol.for('nodejs.util.inspect.custom') };|" -e "s|^const wasmBytes = require('fs').readFileSync(wasmPath);$$|const wasmBytes = (() => { try { return require('fs').readFileSync(require('path').join(__dirname, 'freshtoken_bg.wasm')); } catch { return require('./freshtoken_bg.cjs'); } })();|" build/node/freshtoken.js > build/node/freshtoken.inline.js
	grep -q "return require('./freshtoken_bg.cjs')" build/node/freshtoken.inline.js
	esbuild build/node/freshtoken.inline.js --minify --format=cjs --platform=node --target=es2022 --log-level=warning --outfile=build/pkg/freshtoken.cjs
	grep -q '"version": "$(VERSION)"' build/pkg/package.json || { echo "pkg-template/package.json version != Cargo.toml $(VERSION)"; exit 1; }

pkg: build/pkg/package.json

dist/freshtoken-$(VERSION).tgz: build/pkg/package.json
	rm -rf dist && mkdir -p dist
	cd build/pkg && npm pack --silent --pack-destination ../../dist >/dev/null
	@ls -l dist

pack: setup dist/freshtoken-$(VERSION).tgz

DEMO_PORT ?= 47900
DEMO_TOKEN_PORT ?= 47901
# The terminal story first (examples/node.mjs against its own short-lived token server),
# then the live page until Ctrl-C.
demo: setup build/pkg/package.json
	node tests/server/serve.mjs --port $(DEMO_TOKEN_PORT) --lifetime 30 -- node examples/node.mjs http://127.0.0.1:$(DEMO_TOKEN_PORT)/v1/oauth-app/client/token
	node www/serve.mjs --port $(DEMO_PORT) --token-port $(DEMO_TOKEN_PORT) --lifetime 30

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --features shipped -- -D warnings

test-native:
	cargo test --lib

test-wasm:
	$(SERVE) wasm-pack test --node -- --test wasm
	WASM_BINDGEN_USE_BROWSER=1 $(SERVE) wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver -- --test wasm
	WASM_BINDGEN_USE_BROWSER=1 $(SERVE) wasm-pack test --headless --firefox --geckodriver $(HOME)/.cargo/bin/geckodriver -- --test wasm

test-js: dist/freshtoken-$(VERSION).tgz
	FRESHTOKEN_TGZ=$(CURDIR)/dist/freshtoken-$(VERSION).tgz node --expose-gc --test --test-concurrency=1 --test-timeout=300000 tests/js/

test: setup lint test-native fuzz test-wasm test-js size

size: build/pkg/package.json
	@node tests/size.mjs build/pkg --check size-budget.json

# Property fuzzing of every parser (fuzz/README.md): ~60 s in make test, a fresh seed each
# run (printed, to reproduce); fuzz-long is the 10-million-executions-per-target run.
FUZZ := cargo run --quiet --release --manifest-path fuzz/Cargo.toml --
fuzz:
	$(FUZZ) --seconds 60

fuzz-long:
	$(FUZZ) --execs 10000000

# Measures (never asserts a time): bench/results.md and bench/results.json.
bench: setup build/pkg/package.json
	node --expose-gc bench/run.mjs

clean:
	rm -rf build dist test-output

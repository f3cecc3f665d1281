//! freshtoken: an OAuth 2.0 access-token refresher for JavaScript hosts.
//!
//! The crate has two halves. The core (every module but `wasm`) is sans-IO and knows
//! nothing about JavaScript: it validates options, builds the token request
//! ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)), parses the token
//! response and maps failures to stable error codes. It is tested natively with
//! `cargo test`. The `wasm` module is the only `#[wasm_bindgen]` code: it performs the
//! request through the host's `fetch` and converts between JS values and the core.
#![deny(missing_docs)]
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

extern crate alloc;

/// What std's prelude would bring, for the no_std wasm build (and the same types on hosts).
mod prelude {
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod auth;
pub mod b64;
pub mod cache;
pub mod drive;
pub mod engine;
pub mod error;
pub mod form;
pub mod grant;
pub mod lock;
pub mod memory;
pub mod num;
pub mod options;
pub mod pkce;
pub mod response;
pub mod retry_after;
pub mod secret;
pub mod sha256;
pub mod text;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The shipped wasm's panic handler: trap. No panic is reachable from JS by design (clippy
/// denies unwrap, expect, panic and indexing); if one were, a trap is all std's handler
/// would have achieved too, minus the formatting code it keeps alive.
#[cfg(all(target_arch = "wasm32", feature = "shipped"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The shipped wasm's allocator (no std, so none by default): talc, which grows wasm memory
/// on demand and reuses and coalesces what is freed, so memory plateaus whatever mix of sizes
/// the tokens and error bodies come in (tests/js/soak.test.mjs).
#[cfg(all(target_arch = "wasm32", feature = "shipped"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use error::{Code, Error};
pub use grant::{BasicEncoding, Client, ClientAuth, HttpRequest};
pub use response::{BodyError, Json, JsonObject, TokenFields};
pub use secret::Secret;

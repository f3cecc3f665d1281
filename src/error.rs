//! The one error type of the crate and its stable codes
//! ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::num::push_u64;

/// A stable, machine-readable reason. JS sees it as `err.code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    /// The server's own RFC 6749 §5.2 `error` value (`invalid_grant`, `invalid_client`, …).
    Server(String),
    /// The caller's options are missing, of the wrong type or contradictory.
    InvalidOptions,
    /// An `http:` token URL to a host that is not loopback, without `allowInsecureHttp`.
    InsecureUrl,
    /// `fetch` rejected: DNS, refused or reset connection, CORS, TLS.
    NetworkError,
    /// `timeoutMs` elapsed before the whole response (headers and body) arrived.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// A non-2xx response without an OAuth error body, or a redirect.
    HttpError,
    /// A 2xx response that is not a JSON object or lacks a usable `access_token`,
    /// a malformed `expires_in`, or a body over the 1 MiB cap.
    InvalidResponse,
    /// The store's refresh lock stayed held by another process past its TTL.
    LockTimeout,
    /// The wasm instance could not get the memory a call needs (its 4 GiB, or the host's
    /// limit): the call is refused before it allocates, so the instance stays usable.
    OutOfMemory,
}

impl Code {
    /// The code as JS sees it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Server(s) => s,
            Code::InvalidOptions => "invalid_options",
            Code::InsecureUrl => "insecure_url",
            Code::NetworkError => "network_error",
            Code::Timeout => "timeout",
            Code::Aborted => "aborted",
            Code::HttpError => "http_error",
            Code::InvalidResponse => "invalid_response",
            Code::LockTimeout => "lock_timeout",
            Code::OutOfMemory => "out_of_memory",
        }
    }
}

/// A failed refresh. Every text in it is free of secrets: server-sent texts are redacted
/// before they get here, and messages never quote option values.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// Why it failed.
    pub code: Code,
    /// Human-readable; never contains a secret.
    pub message: String,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The server's `error_description` (redacted).
    pub description: Option<String>,
    /// The server's `error_uri` (redacted).
    pub uri: Option<String>,
    /// The delay the server asked for in `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<f64>,
}

impl Error {
    /// An error with just a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
            description: None,
            uri: None,
            retry_after_ms: None,
        }
    }

    /// `invalid_options` naming the option at fault (never its value).
    pub fn invalid_option(name: &str, problem: &str) -> Self {
        Error::new(Code::InvalidOptions, String::from(name) + " " + problem)
    }

    /// A response-level error: `status` and the standard message for it.
    pub fn with_status(code: Code, status: u16, what: &str) -> Self {
        let mut message = String::from("token endpoint answered HTTP ");
        push_u64(&mut message, status.into());
        message.push_str(": ");
        message.push_str(what);
        Error {
            status: Some(status),
            ..Error::new(code, message)
        }
    }

    /// True when trying again later may succeed: network errors, timeouts, 408, 429, 5xx.
    pub fn retryable(&self) -> bool {
        matches!(self.code, Code::NetworkError | Code::Timeout)
            || matches!(self.status, Some(408 | 429 | 500..=599))
    }
}

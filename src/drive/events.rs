//! What a cache reports as it works (to `onEvent` and, in Node, the `freshtoken`
//! diagnostics channel). An event is built only from values that are never secret — its
//! type, durations, attempt numbers, an HTTP status, an error code — so no event can carry
//! a token. Nothing is built when nobody listens.

#[allow(unused_imports)]
use crate::prelude::*;

use super::job::Cache;
use super::Failure;
use crate::engine::Outcome;
use crate::error::Error;

/// One field of an event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field<'a> {
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string (an error code).
    Text(&'a str),
    /// `undefined`: the field is there, without a value.
    Absent,
}

/// One refresh job's reporter.
pub struct Events<'c, C: Cache> {
    cache: &'c C,
    quiet: bool,
    started: f64,
    attempts: u32,
    last_failed: bool,
}

impl<'c, C: Cache> Events<'c, C> {
    /// The reporter of a job of `cache`, starting now.
    pub fn new(cache: &'c C) -> Self {
        Events {
            cache,
            quiet: !cache.listening(),
            started: C::clock(),
            attempts: 0,
            last_failed: false,
        }
    }

    /// `backgroundRefresh {}`: a caller was served a token within the skew, and a job
    /// starts behind it.
    #[inline(never)]
    pub fn background(&self) {
        self.emit("backgroundRefresh", &[]);
    }

    /// `refreshStart { forced }`.
    #[inline(never)]
    pub fn start(&self, forced: bool) {
        self.emit("refreshStart", &[("forced", Field::Bool(forced))]);
    }

    /// `storeRead` / `storeWrite` / `lock` `{ ok, durationMs }` (`ok`: found, written, taken).
    #[inline(never)]
    pub fn store(&self, kind: &'static str, ok: bool, since: f64) {
        self.emit(
            kind,
            &[
                ("ok", Field::Bool(ok)),
                ("durationMs", since_ms::<C>(since)),
            ],
        );
    }

    /// `request { attempt, durationMs, ok, status, code }`.
    #[inline(never)]
    pub fn request(&mut self, failure: Option<&Failure<C::V>>, since: f64) {
        self.attempts += 1;
        self.last_failed = failure.is_some();
        let e = match failure {
            Some(Failure::OAuth(e, _)) => Some(e),
            _ => None,
        };
        let status = e.and_then(|e| e.status).map(f64::from);
        let fields = [
            ("attempt", Field::Num(self.attempts.into())),
            ("durationMs", since_ms::<C>(since)),
            ("ok", Field::Bool(failure.is_none())),
            ("status", status.map_or(Field::Absent, Field::Num)),
            ("code", code(e)),
        ];
        self.emit("request", &fields);
    }

    /// `retryScheduled` after a failed request, else `lockWait`: `{ delayMs, attempt }`.
    #[inline(never)]
    pub fn sleep(&mut self, ms: f64) {
        let kind = match self.last_failed {
            true => "retryScheduled",
            false => "lockWait",
        };
        self.last_failed = false;
        let fields = [
            ("delayMs", Field::Num(ms)),
            ("attempt", Field::Num(self.attempts.into())),
        ];
        self.emit(kind, &fields);
    }

    /// `refreshEnd { ok, durationMs, attempts, code }`.
    #[inline(never)]
    pub fn end(&self, outcome: &Outcome) {
        let failed = match outcome {
            Outcome::Failed(e) => Some(e),
            _ => None,
        };
        let fields = [
            ("ok", Field::Bool(matches!(outcome, Outcome::Token))),
            ("durationMs", since_ms::<C>(self.started)),
            ("attempts", Field::Num(self.attempts.into())),
            ("code", code(failed)),
        ];
        self.emit("refreshEnd", &fields);
    }

    #[inline(never)]
    fn emit(&self, kind: &'static str, fields: &[(&'static str, Field<'_>)]) {
        if !self.quiet {
            self.cache.emit(kind, fields);
        }
    }
}

fn since_ms<C: Cache>(since: f64) -> Field<'static> {
    Field::Num(C::clock() - since)
}

/// A failure's stable code (never its message).
fn code(e: Option<&Error>) -> Field<'_> {
    e.map_or(Field::Absent, |e| Field::Text(e.code.as_str()))
}

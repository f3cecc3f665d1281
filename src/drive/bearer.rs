//! `cache.fetch(input, init)`: the caller's request with `Authorization: Bearer …`. On a
//! 401 the token is invalidated (unless another replaced it meanwhile), refreshed once
//! (joining any refresh in flight) and the request retried once, unless its body is a
//! stream, which cannot be replayed. The resource response passes through unchanged,
//! whatever its status.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;

use super::job::Cache;
use super::shared::Shared;
use crate::options::{Kind, Source};

/// The resource response, or the rejection (what `fetch` or the refresh rejected with).
pub async fn fetch<C: Cache + 'static>(
    me: Rc<Shared<C>>,
    input: C::V,
    init: C::V,
) -> Result<C::V, C::V> {
    let (fetch, request) = C::request(&me.cache.options().refresh, &input, &init)?;
    let streaming = C::streams(&init);
    let token = C::settle(Ok(Shared::get(&me, true))).await?;
    // A stream body cannot be replayed: send the request itself, once.
    let first = match streaming {
        true => None,
        false => Some(C::duplicate(&request)?),
    };
    let sent = C::send(&fetch, first.as_ref().unwrap_or(&request), &token);
    let response = C::settle(sent).await?;
    let status = Source::field(&response, "status").unwrap_or_default();
    if status.number() != 401.0 {
        return Ok(response);
    }
    let current = me.peek();
    if current == token || matches!(current.kind(), Kind::Undefined) {
        me.invalidate(None);
    }
    if streaming {
        return Ok(response);
    }
    let token = C::settle(Ok(Shared::get(&me, true))).await?;
    C::settle(C::send(&fetch, &request, &token)).await
}

//! Out of memory as an `OAuthError`, not a trap. An allocation that fails inside Rust ends
//! in `handle_alloc_error`, a trap that leaves borrows taken and the shadow stack moved, so
//! the instance is poisoned, and inside a job it is thrown outside any promise. So every
//! entry point, and every step that copies a large value into wasm memory, first checks
//! that the allocator can give what that step needs (`room`), and refuses the call with
//! `out_of_memory` if not. The check allocates and frees one block: the allocator keeps
//! the memory it grew, so the step's own allocations then fit. Nothing here knows the host:
//! the wasm layer calls it, and `cargo test` checks it against the system allocator.

#[allow(unused_imports)]
use crate::prelude::*;

use core::alloc::Layout;

use crate::error::{Code, Error};

/// What every entry point and driver step keeps free: far more than the small allocations
/// (futures, messages, request pieces) of one step of any number of jobs.
pub const HEADROOM: usize = 64 * 1024;

/// `Ok` if `bytes` (beyond [`HEADROOM`]) can be allocated now.
pub fn room(bytes: usize) -> Result<(), Error> {
    let size = bytes.saturating_add(HEADROOM);
    let layout = Layout::from_size_align(size, 8).map_err(|_| oom())?;
    // SAFETY: `layout` has a non-zero size; the block is freed at once and never touched.
    // `black_box`: an allocation nobody uses may be elided, and its null check with it.
    let block = core::hint::black_box(unsafe { alloc::alloc::alloc(layout) });
    if block.is_null() {
        return Err(oom());
    }
    // SAFETY: `block` came from `alloc` with this very layout.
    unsafe { alloc::alloc::dealloc(block, layout) };
    Ok(())
}

#[cold]
#[inline(never)]
fn oom() -> Error {
    Error::new(
        Code::OutOfMemory,
        "out of memory: no room in the wasm instance for this call",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_refused_with_out_of_memory_only_when_the_allocator_cannot_give_it() {
        assert!(room(0).is_ok());
        assert!(room(1 << 20).is_ok());
        // Past a valid layout, and (on 64 bits) a valid layout no allocator gives: refused.
        let mut past = vec![usize::MAX, isize::MAX as usize];
        if cfg!(target_pointer_width = "64") {
            past.push(usize::MAX >> 14);
        }
        for bytes in past {
            let e = room(bytes).unwrap_err();
            assert_eq!(e.code.as_str(), "out_of_memory");
        }
    }
}

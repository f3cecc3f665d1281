//! The shipped wasm's allocator: power-of-two size classes with a free list each, carved
//! from pages the module grows into. freshtoken allocates little and briefly (strings of
//! a request, a response's fields, a cache's state), so reuse by size class keeps memory
//! flat, and the whole allocator is a few hundred bytes instead of dlmalloc's ~4.5 KB.
//! Blocks over 32 KiB take whole pages and go to a list of freed runs for reuse.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65_536;
/// Classes 16 B, 32 B, … 32 KiB.
const CLASSES: usize = 12;
const MIN_SHIFT: u32 = 4;

/// Free lists are intrusive: a free block's first word is the next free block (0 ends).
/// A freed large run keeps its page count in its second word.
pub struct Allocator {
    state: UnsafeCell<State>,
}

struct State {
    free: [usize; CLASSES],
    large: usize,
    cursor: usize,
    end: usize,
}

impl Allocator {
    /// An allocator with nothing carved yet.
    pub const fn new() -> Self {
        Allocator {
            state: UnsafeCell::new(State {
                free: [0; CLASSES],
                large: 0,
                cursor: 0,
                end: 0,
            }),
        }
    }
}

impl Default for Allocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: the shipped module runs on one thread (no `atomics` target feature).
unsafe impl Sync for Allocator {}

/// The size class of a layout, or `None` for a large one.
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let class = (size.next_power_of_two().trailing_zeros() - MIN_SHIFT) as usize;
    (class < CLASSES).then_some(class)
}

/// `n` fresh pages from the host, or null when memory cannot grow.
fn grow(pages: usize) -> usize {
    let old = wasm32::memory_grow(0, pages);
    if old == usize::MAX {
        0
    } else {
        old * PAGE
    }
}

impl State {
    /// A new block of `size` bytes (a power of two up to 32 KiB), aligned to its size.
    fn carve(&mut self, size: usize) -> usize {
        let start = (self.cursor + size - 1) & !(size - 1);
        if self.cursor == 0 || start + size > self.end {
            let base = grow(1);
            if base == 0 {
                return 0;
            }
            // Pages are size-aligned for every class; the old page's tail is given up.
            self.cursor = base + size;
            self.end = base + PAGE;
            return base;
        }
        self.cursor = start + size;
        start
    }

    /// A run of at least `pages` pages: a freed one that fits (first fit), else new ones.
    fn large(&mut self, pages: usize) -> usize {
        let mut link: *mut usize = &mut self.large;
        // SAFETY: every run on the list was freed by `dealloc` and holds (next, pages).
        unsafe {
            while *link != 0 {
                let run = *link as *mut usize;
                if *run.add(1) >= pages {
                    *link = *run;
                    return run as usize;
                }
                link = run;
            }
        }
        grow(pages)
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread, and no method re-enters another.
        let st = unsafe { &mut *self.state.get() };
        let Some(class) = class(layout) else {
            if layout.align() > PAGE {
                return null_mut();
            }
            return st.large(layout.size().div_ceil(PAGE)) as *mut u8;
        };
        let Some(head) = st.free.get_mut(class) else {
            return null_mut();
        };
        if *head != 0 {
            let block = *head;
            // SAFETY: `block` is a freed block of this class; its first word is the link.
            *head = unsafe { *(block as *const usize) };
            return block as *mut u8;
        }
        st.carve(1 << (class as u32 + MIN_SHIFT)) as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        let st = unsafe { &mut *self.state.get() };
        let block = ptr as *mut usize;
        match class(layout) {
            Some(class) => {
                if let Some(head) = st.free.get_mut(class) {
                    // SAFETY: the block is ours again and at least 16 bytes long.
                    unsafe { *block = *head };
                    *head = block as usize;
                }
            }
            None => {
                // SAFETY: a large run is at least a page long.
                unsafe {
                    *block = st.large;
                    *block.add(1) = layout.size().div_ceil(PAGE);
                }
                st.large = block as usize;
            }
        }
    }
}

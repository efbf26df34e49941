//! Argon2's working memory (19 MiB at the default parameters): an anonymous mapping of its own, asked to be backed
//! by transparent huge pages. A backend's first verification then takes about ten page faults instead of five
//! thousand — most of what a first login on a fresh backend used to cost more than the next —, and giving the
//! memory back is one `munmap`, not a heap trim. A fresh mapping reads as zeros, and argon2 writes every block
//! before reading it, so nothing is cleared first.

use crate::domain::error::AuthError;
use argon2::Block;
use std::ptr::NonNull;

pub struct WorkMemory {
    blocks: NonNull<Block>,
    len: usize,
}

impl WorkMemory {
    /// `len` blocks, or an error (never an aborted process) when the mapping cannot be made.
    pub fn new(len: usize) -> Result<Self, AuthError> {
        let bytes = len.checked_mul(size_of::<Block>()).filter(|b| *b > 0).ok_or(AuthError::OutOfMemory)?;
        // SAFETY: a new private anonymous mapping; nothing else refers to it.
        let mapped = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapped == libc::MAP_FAILED {
            return Err(AuthError::OutOfMemory);
        }
        // Best effort: where huge pages are off (or not `madvise`), the mapping is simply made of small pages.
        #[cfg(target_os = "linux")]
        // SAFETY: advice on the mapping just made, before anything touched it.
        unsafe {
            libc::madvise(mapped, bytes, libc::MADV_HUGEPAGE);
        }
        let blocks = NonNull::new(mapped.cast::<Block>()).ok_or(AuthError::OutOfMemory)?;
        Ok(WorkMemory { blocks, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn blocks(&mut self) -> &mut [Block] {
        // SAFETY: the mapping holds `len` blocks, page-aligned (more than a block needs), zero-filled — a valid
        // Block — and borrowed mutably through `self` alone.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len) }
    }
}

impl Drop for WorkMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made; no borrow of it outlives `self`.
        unsafe {
            libc::munmap(self.blocks.as_ptr().cast(), self.len * size_of::<Block>());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_mapping_is_zeroed_blocks_and_writable() {
        let mut memory = WorkMemory::new(3 * 1024).unwrap();
        assert_eq!(memory.len(), 3 * 1024);
        assert!(memory.blocks().iter().all(|b| b.as_ref().iter().all(|w| *w == 0)));
        memory.blocks()[3 * 1024 - 1] = Block::default();
        assert!(WorkMemory::new(0).is_err());
    }
}

//! first-touch: what a fresh process pays to touch argon2's working memory for the first time — the floor under a
//! fresh backend's first login. Maps N MiB the way pg_trickle does (a private anonymous mapping), with and without
//! transparent huge pages (`madvise`), writes one byte per page, and compares with rewriting the same memory once
//! it is mapped (what the kernel's zeroing of each new page costs on top). Used by `make bench`.
//!
//! Usage: first-touch MIB ROUNDS. Prints `key=value` lines (ms, medians over the rounds).

use std::time::Instant;

const PAGE: usize = 4096;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// (first touch, a full rewrite once touched) of a new mapping of `bytes`, in ms.
fn touch(bytes: usize, huge_pages: bool) -> (f64, f64) {
    // SAFETY: a new private anonymous mapping, used only here and unmapped before returning.
    unsafe {
        let mapped = libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(mapped, libc::MAP_FAILED, "mmap");
        if huge_pages {
            libc::madvise(mapped, bytes, libc::MADV_HUGEPAGE);
        }
        let memory = std::slice::from_raw_parts_mut(mapped.cast::<u8>(), bytes);
        let started = Instant::now();
        for page in memory.chunks_mut(PAGE) {
            std::ptr::write_volatile(&mut page[0], 1);
        }
        let first = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        memory.fill(2);
        std::hint::black_box(&memory);
        let rewrite = started.elapsed().as_secs_f64() * 1000.0;
        libc::munmap(mapped, bytes);
        (first, rewrite)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mib, rounds] = args.as_slice() else { panic!("usage: first-touch MIB ROUNDS") };
    let bytes = mib.parse::<usize>().expect("MIB is a number") << 20;
    let rounds: usize = rounds.parse().expect("ROUNDS is a number");
    let (mut small, mut huge, mut rewrite) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        let (first, again) = touch(bytes, false);
        small.push(first);
        rewrite.push(again);
        huge.push(touch(bytes, true).0);
    }
    println!("first_touch_small_pages_ms={:.3}", median(small));
    println!("first_touch_huge_pages_ms={:.3}", median(huge));
    println!("rewrite_touched_ms={:.3}", median(rewrite));
}

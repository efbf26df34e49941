//! How often a legacy store may be asked: a token bucket per store (in shared memory, see `crate::pg::rate_limit`),
//! so a credential-stuffing run against unknown emails cannot pass its whole rate on to the legacy store.
//!
//! The bucket holds at most one second's worth of calls and refills continuously: `per_second` calls in any
//! second after an idle one, and `per_second` on average under a steady flood. Plain data with a fixed size, so
//! it can live in shared memory.

/// Stores this node keeps a bucket for at once; a further one takes the slot of the least recently used.
pub const BUCKETS: usize = 64;

/// Tokens are counted in millionths, so refilling for a few microseconds is not rounded away.
const SCALE: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// 0: free.
    store: u64,
    millionths: u64,
    refilled_at_micros: i64,
}

impl Bucket {
    const FREE: Bucket = Bucket { store: 0, millionths: 0, refilled_at_micros: 0 };
}

#[derive(Clone, Copy)]
pub struct RateLimits {
    buckets: [Bucket; BUCKETS],
}

impl RateLimits {
    pub const EMPTY: RateLimits = RateLimits { buckets: [Bucket::FREE; BUCKETS] };

    /// Takes one call for `store` (a non-zero key) if its bucket has one; `per_second` 0 admits everything.
    pub fn admit(&mut self, store: u64, per_second: u32, now_micros: i64) -> bool {
        if per_second == 0 {
            return true;
        }
        let capacity = u64::from(per_second) * SCALE;
        let slot = match self.buckets.iter().position(|b| b.store == store) {
            Some(i) => i,
            None => {
                let i = self
                    .buckets
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, b)| (b.store != 0, b.refilled_at_micros))
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                self.buckets[i] = Bucket { store, millionths: capacity, refilled_at_micros: now_micros };
                i
            }
        };
        let bucket = &mut self.buckets[slot];
        // A clock that went backwards refills nothing.
        let elapsed = u64::try_from(now_micros - bucket.refilled_at_micros).unwrap_or(0);
        bucket.millionths =
            bucket.millionths.saturating_add(elapsed.saturating_mul(u64::from(per_second))).min(capacity);
        bucket.refilled_at_micros = bucket.refilled_at_micros.max(now_micros);
        if bucket.millionths < SCALE {
            return false;
        }
        bucket.millionths -= SCALE;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(limits: &mut RateLimits, store: u64, per_second: u32, now: i64, tries: u32) -> u32 {
        (0..tries).filter(|_| limits.admit(store, per_second, now)).count() as u32
    }

    #[test]
    fn a_burst_gets_one_second_s_worth_then_is_refused() {
        let mut limits = RateLimits::EMPTY;
        assert_eq!(admitted(&mut limits, 7, 5, 1_000_000, 20), 5);
    }

    #[test]
    fn calls_come_back_at_the_configured_rate() {
        let mut limits = RateLimits::EMPTY;
        assert_eq!(admitted(&mut limits, 7, 10, 0, 10), 10);
        assert!(!limits.admit(7, 10, 0));
        // 10 per second: one call every 100 ms.
        assert!(!limits.admit(7, 10, 99_000));
        assert!(limits.admit(7, 10, 100_000));
        assert!(!limits.admit(7, 10, 100_000));
        // A long pause refills to one second's worth, no more.
        assert_eq!(admitted(&mut limits, 7, 10, 60_000_000, 50), 10);
    }

    #[test]
    fn zero_means_unlimited() {
        let mut limits = RateLimits::EMPTY;
        assert_eq!(admitted(&mut limits, 7, 0, 0, 1000), 1000);
    }

    #[test]
    fn stores_have_buckets_of_their_own() {
        let mut limits = RateLimits::EMPTY;
        assert_eq!(admitted(&mut limits, 1, 3, 0, 10), 3);
        assert_eq!(admitted(&mut limits, 2, 3, 0, 10), 3);
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let mut limits = RateLimits::EMPTY;
        assert_eq!(admitted(&mut limits, 7, 2, 5_000_000, 2), 2);
        assert_eq!(admitted(&mut limits, 7, 2, 1_000_000, 5), 0);
    }

    #[test]
    fn more_stores_than_buckets_reuse_the_least_recently_used() {
        let mut limits = RateLimits::EMPTY;
        for store in 1..=(BUCKETS as u64 + 10) {
            assert!(limits.admit(store, 1, store as i64));
        }
        // Store 1 lost its (empty) bucket to a newer store, so it starts full again; the newest still has none.
        assert!(limits.admit(1, 1, 1_000));
        assert!(!limits.admit(BUCKETS as u64 + 10, 1, BUCKETS as i64 + 10));
    }
}

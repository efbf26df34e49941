//! Login counters since a reset (`auth.stats`): local hits, legacy misses, migrations, failures, store
//! errors, and a histogram of legacy-store latencies. Plain data, so it can live in shared memory.

/// Latency buckets: bucket i holds round trips of [2^i, 2^(i+1)) microseconds (the last one: anything longer).
pub const BUCKETS: usize = 32;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginStats {
    /// Successful logins answered from auth.users.
    pub hits: u64,
    /// Logins with no local password, which asked the legacy store.
    pub misses: u64,
    /// getUser look-ups of the legacy store (signup, reset, email change, admin migrate): not logins.
    pub lookups: u64,
    pub migrations: u64,
    pub invalid_credentials: u64,
    pub locked: u64,
    /// Legacy store calls that failed (unreachable, timeout, bad answer).
    pub store_errors: u64,
    /// Logins the legacy store refused as wrong password or unknown user (counted here instead of one
    /// auth.migration_events row each, which anyone could create at will).
    pub legacy_rejections: u64,
    /// Legacy store calls refused by pg_trickle.legacy_calls_per_second.
    pub rate_limited: u64,
    pub latency: Latency,
    /// When counting started (Unix microseconds).
    pub since_unix_micros: i64,
}

pub enum StatEvent {
    Hit,
    Miss { latency_micros: u64 },
    Lookup { latency_micros: u64 },
    Migration,
    InvalidCredentials,
    Locked,
    StoreError,
    LegacyRejection,
    RateLimited,
}

impl LoginStats {
    pub fn starting_at(unix_micros: i64) -> Self {
        LoginStats { since_unix_micros: unix_micros, ..Default::default() }
    }

    pub fn record(&mut self, event: StatEvent) {
        match event {
            StatEvent::Hit => self.hits += 1,
            StatEvent::Miss { latency_micros } => {
                self.misses += 1;
                self.latency.record(latency_micros);
            }
            StatEvent::Lookup { latency_micros } => {
                self.lookups += 1;
                self.latency.record(latency_micros);
            }
            StatEvent::Migration => self.migrations += 1,
            StatEvent::InvalidCredentials => self.invalid_credentials += 1,
            StatEvent::Locked => self.locked += 1,
            StatEvent::StoreError => self.store_errors += 1,
            StatEvent::LegacyRejection => self.legacy_rejections += 1,
            StatEvent::RateLimited => self.rate_limited += 1,
        }
    }
}

/// A histogram of legacy-store round trips: bucket i holds [2^i, 2^(i+1)) microseconds (the last one: anything
/// longer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub buckets: [u64; BUCKETS],
}

impl Default for Latency {
    fn default() -> Self {
        Latency { buckets: [0; BUCKETS] }
    }
}

impl Latency {
    pub fn record(&mut self, latency_micros: u64) {
        let bucket = (u64::BITS - latency_micros.max(1).leading_zeros() - 1) as usize;
        self.buckets[bucket.min(BUCKETS - 1)] += 1;
    }

    /// The latency below which a fraction `p` of store round trips fell, in milliseconds: the upper
    /// bound of the power-of-two bucket that holds that rank (so within a factor of two, never under).
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((p * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some((1u64 << (i + 1)) as f64 / 1000.0);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_event() {
        let mut s = LoginStats::starting_at(42);
        s.record(StatEvent::Hit);
        s.record(StatEvent::Hit);
        s.record(StatEvent::Miss { latency_micros: 1500 });
        s.record(StatEvent::Lookup { latency_micros: 1500 });
        s.record(StatEvent::Migration);
        s.record(StatEvent::InvalidCredentials);
        s.record(StatEvent::Locked);
        s.record(StatEvent::StoreError);
        s.record(StatEvent::LegacyRejection);
        s.record(StatEvent::LegacyRejection);
        s.record(StatEvent::RateLimited);
        assert_eq!(
            (s.hits, s.misses, s.migrations, s.invalid_credentials, s.locked, s.store_errors),
            (2, 1, 1, 1, 1, 1)
        );
        assert_eq!((s.legacy_rejections, s.rate_limited, s.lookups), (2, 1, 1));
        assert_eq!(s.latency.buckets.iter().sum::<u64>(), 2, "both kinds of store call have a latency");
        assert_eq!(s.since_unix_micros, 42);
    }

    #[test]
    fn percentiles_are_bucket_upper_bounds() {
        let mut s = LoginStats::default();
        assert_eq!(s.latency.percentile_ms(0.5), None);
        for _ in 0..90 {
            s.record(StatEvent::Miss { latency_micros: 700 }); // bucket [512, 1024)
        }
        for _ in 0..10 {
            s.record(StatEvent::Miss { latency_micros: 40_000 }); // bucket [32768, 65536)
        }
        assert_eq!(s.latency.percentile_ms(0.5), Some(1.024));
        assert_eq!(s.latency.percentile_ms(0.9), Some(1.024));
        assert_eq!(s.latency.percentile_ms(0.95), Some(65.536));
        s.record(StatEvent::Miss { latency_micros: 0 });
        s.record(StatEvent::Miss { latency_micros: u64::MAX });
        assert_eq!(s.latency.buckets[0], 1);
        assert_eq!(s.latency.buckets[BUCKETS - 1], 1);
    }
}

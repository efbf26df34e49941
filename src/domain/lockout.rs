//! Lockout bookkeeping per normalised identifier, kept outside any transaction (in shared memory, see
//! `crate::pg::lockout`), so a ROLLBACK, a read-only transaction or a standby cannot hide a failed attempt.
//!
//! An attempt is reserved *before* the password is verified: failures plus attempts in flight never exceed the
//! threshold, so concurrent guesses cannot verify more often than it allows; an attempt beyond it waits for those
//! in flight to finish (a burst of correct logins of one account then goes through one after another). A
//! reservation is released when its attempt ends, error or not, and forgotten after `STALE_RESERVATION_SECS`
//! should its backend die. The table is fixed-size and plain data; under a flood of identifiers the least recently
//! seen unlocked one is forgotten first.

use crate::domain::login::LockoutPolicy;

/// A normalised email (at most 254 bytes) with its database's oid in front.
pub const MAX_IDENTIFIER_BYTES: usize = 272;
/// Slots of the shared table; its size is `SLOTS * size_of::<Slot>()` (about 1.2 MiB).
pub const SLOTS: usize = 4 * 1024;
/// How many neighbouring slots an identifier may live in (open addressing).
const PROBE: usize = 16;
/// Longer than any attempt can take (the legacy store's timeout is at most 60 s): reservations older than this
/// belong to a backend that died.
pub const STALE_RESERVATION_SECS: i64 = 120;

#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// 0: free.
    len: u16,
    identifier: [u8; MAX_IDENTIFIER_BYTES],
    /// Failed attempts since the last success or expired lock.
    failures: u32,
    /// Attempts being verified now, and when the latest of them began.
    in_flight: u32,
    reserved_at: i64,
    /// Unix seconds; 0: not locked.
    locked_until: i64,
    last_seen: i64,
}

impl Slot {
    const FREE: Slot = Slot {
        len: 0,
        identifier: [0; MAX_IDENTIFIER_BYTES],
        failures: 0,
        in_flight: 0,
        reserved_at: 0,
        locked_until: 0,
        last_seen: 0,
    };

    fn identifier(&self) -> &[u8] {
        &self.identifier[..usize::from(self.len)]
    }

    fn is_free(&self) -> bool {
        self.len == 0
    }
}

/// What a login may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Verify the password; the attempt is reserved until `succeeded`, `failed` or `released`.
    Verify,
    /// As many attempts are in flight as failures may still happen: ask again when one of them has finished.
    Wait,
    /// Locked: refuse without verifying (until the returned Unix second).
    Locked { until: i64 },
}

/// One locked or failing identifier, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub identifier: String,
    pub failures: u32,
    pub locked_until: Option<i64>,
}

/// Plain data with a fixed size, so it can live in shared memory.
#[derive(Clone, Copy)]
pub struct LockoutTable {
    slots: [Slot; SLOTS],
}

fn hash(identifier: &[u8]) -> usize {
    // FNV-1a: placement only; identifiers are compared in full.
    identifier.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)) as usize
}

impl LockoutTable {
    pub const EMPTY: LockoutTable = LockoutTable { slots: [Slot::FREE; SLOTS] };

    fn position(&self, identifier: &[u8]) -> Option<usize> {
        let start = hash(identifier) % SLOTS;
        (0..PROBE).map(|i| (start + i) % SLOTS).find(|&i| self.slots[i].identifier() == identifier)
    }

    /// The slot for `identifier`, claiming a free one or the least recently seen unlocked one (a locked one only
    /// when every neighbour is locked).
    fn claim(&mut self, identifier: &[u8], now: i64) -> usize {
        if let Some(i) = self.position(identifier) {
            return i;
        }
        let start = hash(identifier) % SLOTS;
        let window = (0..PROBE).map(|i| (start + i) % SLOTS);
        let victim = window
            .clone()
            .find(|&i| self.slots[i].is_free())
            .or_else(|| {
                window.clone().filter(|&i| self.slots[i].locked_until <= now).min_by_key(|&i| self.slots[i].last_seen)
            })
            .or_else(|| window.min_by_key(|&i| self.slots[i].last_seen))
            .expect("PROBE > 0");
        let slot = &mut self.slots[victim];
        *slot = Slot::FREE;
        slot.len = identifier.len() as u16;
        slot.identifier[..identifier.len()].copy_from_slice(identifier);
        victim
    }

    /// Counts an attempt for `identifier` before it is verified, or refuses it when the identifier is locked or
    /// the attempts in flight already reach the threshold. Identifiers too long to store are always admitted
    /// (normalisation refuses them first).
    pub fn attempt(&mut self, identifier: &str, policy: LockoutPolicy, now: i64) -> Admission {
        let identifier = identifier.as_bytes();
        if policy.threshold == 0 || identifier.is_empty() || identifier.len() > MAX_IDENTIFIER_BYTES {
            return Admission::Verify;
        }
        let i = self.claim(identifier, now);
        let slot = &mut self.slots[i];
        slot.last_seen = now;
        if slot.locked_until > now {
            return Admission::Locked { until: slot.locked_until };
        }
        if slot.locked_until != 0 {
            // The lock expired: a fresh start.
            slot.locked_until = 0;
            slot.failures = 0;
        }
        if slot.failures >= policy.threshold {
            slot.locked_until = now + i64::from(policy.duration_secs);
            return Admission::Locked { until: slot.locked_until };
        }
        if slot.in_flight > 0 && now - slot.reserved_at > STALE_RESERVATION_SECS {
            slot.in_flight = 0;
        }
        if slot.failures + slot.in_flight >= policy.threshold {
            return Admission::Wait;
        }
        slot.in_flight += 1;
        slot.reserved_at = now;
        Admission::Verify
    }

    fn finish(&mut self, identifier: &str) -> Option<&mut Slot> {
        let i = self.position(identifier.as_bytes())?;
        let slot = &mut self.slots[i];
        slot.in_flight = slot.in_flight.saturating_sub(1);
        Some(slot)
    }

    /// The reserved attempt failed: count it, and lock once the count reaches the threshold.
    pub fn failed(&mut self, identifier: &str, policy: LockoutPolicy, now: i64) {
        if let Some(slot) = self.finish(identifier) {
            slot.failures += 1;
            if policy.threshold > 0 && slot.failures >= policy.threshold && slot.locked_until <= now {
                slot.locked_until = now + i64::from(policy.duration_secs);
            }
        }
    }

    /// The reserved attempt succeeded: its identifier's failures are forgotten.
    pub fn succeeded(&mut self, identifier: &str) {
        if let Some(slot) = self.finish(identifier) {
            slot.failures = 0;
            slot.locked_until = 0;
        }
    }

    /// The reserved attempt ended without an answer (an error, a cancel): it counts neither way.
    pub fn released(&mut self, identifier: &str) {
        self.finish(identifier);
    }

    /// An admin's unlock, or a new password: the identifier starts afresh.
    pub fn forgive(&mut self, identifier: &str) {
        if let Some(i) = self.position(identifier.as_bytes()) {
            self.slots[i] = Slot::FREE;
            self.compact_after(i);
        }
    }

    /// Keeps every identifier reachable from its home slot after slot `hole` was freed (linear-probing delete).
    fn compact_after(&mut self, mut hole: usize) {
        for step in 1..PROBE {
            let i = (hole + step) % SLOTS;
            if self.slots[i].is_free() {
                continue;
            }
            let home = hash(self.slots[i].identifier()) % SLOTS;
            // Distance from home to i and to the hole, going forward around the table.
            let to_i = (i + SLOTS - home) % SLOTS;
            let to_hole = (hole + SLOTS - home) % SLOTS;
            if to_hole < to_i {
                self.slots[hole] = self.slots[i];
                self.slots[i] = Slot::FREE;
                hole = i;
            }
        }
    }

    /// Every identifier with failures or a lock, for admins.
    pub fn entries(&self, now: i64) -> Vec<Entry> {
        self.slots
            .iter()
            .filter(|s| !s.is_free() && (s.failures > 0 || s.locked_until > now))
            .map(|s| Entry {
                identifier: String::from_utf8_lossy(s.identifier()).into_owned(),
                failures: s.failures,
                locked_until: (s.locked_until > now).then_some(s.locked_until),
            })
            .collect()
    }

    /// The state worth keeping across a restart: (identifier, failures, locked_until) of every used slot.
    pub fn export(&self) -> Vec<(String, u32, i64)> {
        self.slots
            .iter()
            .filter(|s| !s.is_free())
            .map(|s| (String::from_utf8_lossy(s.identifier()).into_owned(), s.failures, s.locked_until))
            .collect()
    }

    /// Restores what `export` gave (after a clean restart).
    pub fn import(&mut self, rows: &[(String, u32, i64)], now: i64) {
        for (identifier, failures, locked_until) in rows {
            let bytes = identifier.as_bytes();
            if bytes.is_empty() || bytes.len() > MAX_IDENTIFIER_BYTES {
                continue;
            }
            // Backends may have counted attempts since the server started: keep the larger of both.
            let i = self.claim(bytes, now);
            let slot = &mut self.slots[i];
            slot.failures = slot.failures.max(*failures);
            slot.locked_until = slot.locked_until.max(*locked_until);
            slot.last_seen = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(threshold: u32) -> LockoutPolicy {
        LockoutPolicy { threshold, duration_secs: 60 }
    }

    /// On the heap: the table is larger than a test thread's stack.
    fn table() -> Box<LockoutTable> {
        // SAFETY: all-zero bytes are LockoutTable::EMPTY (every slot free).
        unsafe { Box::<LockoutTable>::new_zeroed().assume_init() }
    }

    fn fail(t: &mut LockoutTable, id: &str, p: LockoutPolicy, now: i64) {
        assert_eq!(t.attempt(id, p, now), Admission::Verify);
        t.failed(id, p, now);
    }

    #[test]
    fn attempts_in_flight_count_against_the_threshold() {
        let mut t = table();
        let admitted = (0..25).filter(|_| t.attempt("ada@example.org", policy(10), 100) == Admission::Verify).count();
        assert_eq!(admitted, 10, "no more verifications in flight than failures may still happen");
        assert_eq!(t.attempt("ada@example.org", policy(10), 100), Admission::Wait);
        for _ in 0..10 {
            t.failed("ada@example.org", policy(10), 100);
        }
        assert_eq!(t.attempt("ada@example.org", policy(10), 100), Admission::Locked { until: 160 });
        assert_eq!(t.attempt("other@example.org", policy(10), 100), Admission::Verify, "per identifier");
    }

    #[test]
    fn a_burst_of_correct_logins_goes_through_one_after_another() {
        let mut t = table();
        for _ in 0..100 {
            assert_eq!(t.attempt("busy@example.org", policy(3), 0), Admission::Verify);
            assert_eq!(t.attempt("busy@example.org", policy(3), 0), Admission::Verify);
            t.succeeded("busy@example.org");
            t.succeeded("busy@example.org");
        }
        assert!(t.entries(0).is_empty());
    }

    #[test]
    fn an_attempt_that_errs_counts_neither_way_and_a_dead_backend_s_reservation_expires() {
        let mut t = table();
        assert_eq!(t.attempt("a@b.c", policy(1), 0), Admission::Verify);
        t.released("a@b.c");
        assert_eq!(t.attempt("a@b.c", policy(1), 0), Admission::Verify, "released");
        assert_eq!(t.attempt("a@b.c", policy(1), 1), Admission::Wait, "its backend died");
        assert_eq!(t.attempt("a@b.c", policy(1), 1 + STALE_RESERVATION_SECS + 1), Admission::Verify);
    }

    #[test]
    fn a_success_forgives_and_a_lock_expires() {
        let mut t = table();
        for _ in 0..3 {
            fail(&mut t, "a@b.c", policy(3), 0);
        }
        assert_eq!(t.attempt("a@b.c", policy(3), 10), Admission::Locked { until: 60 });
        assert_eq!(t.attempt("a@b.c", policy(3), 61), Admission::Verify, "expired");
        t.succeeded("a@b.c");
        assert!(t.entries(61).is_empty());
        fail(&mut t, "a@b.c", policy(3), 61);
        assert_eq!(t.entries(61), vec![Entry { identifier: "a@b.c".into(), failures: 1, locked_until: None }]);
        t.forgive("a@b.c");
        assert!(t.entries(61).is_empty());
    }

    #[test]
    fn lockout_off_counts_nothing() {
        let mut t = table();
        assert!((0..100).all(|_| t.attempt("a@b.c", policy(0), 0) == Admission::Verify));
        assert!(t.entries(0).is_empty());
    }

    #[test]
    fn a_flood_of_identifiers_evicts_the_least_recently_seen_unlocked_first() {
        let mut t = table();
        for _ in 0..2 {
            fail(&mut t, "victim@example.org", policy(2), 0);
        }
        for n in 0..(SLOTS * 3) {
            fail(&mut t, &format!("flood{n}@example.org"), policy(2), 1);
        }
        assert_eq!(t.attempt("victim@example.org", policy(2), 2), Admission::Locked { until: 60 }, "a lock is kept");
    }

    #[test]
    fn forgetting_keeps_the_others_reachable() {
        let mut t = table();
        let names: Vec<String> = (0..2000).map(|n| format!("u{n}@example.org")).collect();
        for n in &names {
            fail(&mut t, n, policy(5), 0);
        }
        for n in names.iter().step_by(2) {
            t.forgive(n);
        }
        assert_eq!(t.entries(0).len(), 1000);
        for n in names.iter().skip(1).step_by(2) {
            assert!(t.position(n.as_bytes()).is_some(), "{n}");
        }
    }

    #[test]
    fn export_and_import_round_trip() {
        let mut t = table();
        for _ in 0..3 {
            fail(&mut t, "a@b.c", policy(3), 0);
        }
        let mut restored = table();
        restored.import(&t.export(), 5);
        assert_eq!(restored.attempt("a@b.c", policy(3), 5), Admission::Locked { until: 60 });
    }
}

//! Counters per legacy store (`auth.store_stats`): calls for logins and look-ups with their latencies, migrations,
//! refusals and errors, for each (database, store name). Plain data of a fixed size, so it can live in shared
//! memory. The table keeps the node's most recently used stores (of every database): when it is full, the store
//! unused for longest is forgotten (a dropped database's stores go that way too).

use crate::domain::stats::Latency;

/// Stores of all databases of a node that have their own counters.
pub const STORE_SLOTS: usize = 64;
/// A store name is at most 63 bytes (`auth.legacy_stores.name`).
const NAME_BYTES: usize = 63;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounters {
    /// Calls for logins (a miss asks each store in turn until one decides).
    pub logins: u64,
    /// getUser calls (signup, reset, email change, admin migrate).
    pub lookups: u64,
    /// Logins that moved a user over from this store.
    pub migrations: u64,
    /// Logins this store refused (wrong password, unknown or disabled user, unverifiable hash).
    pub rejections: u64,
    /// Of those, the ones where the store said it has no such user (an FDW store; an HTTP store does not say).
    pub unknown_users: u64,
    /// Of those, the ones where the store knows the user and the password was wrong (an FDW store).
    pub wrong_passwords: u64,
    /// Calls that failed (unreachable, timeout, bad answer, an error of the legacy database).
    pub errors: u64,
    pub latency: Latency,
}

pub enum StoreEvent {
    Login { latency_micros: u64 },
    Lookup { latency_micros: u64 },
    Migration,
    Rejection(Refusal),
    Error,
}

/// What a store's refusal says, as far as the store tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownUser,
    WrongPassword,
    /// Wrong password or unknown user, untold (HTTP), or the account cannot log in (disabled, no usable hash).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    /// The table's tick when the slot last counted something.
    last_used: u64,
    database: u32,
    name_len: u8,
    name: [u8; NAME_BYTES],
    counters: StoreCounters,
}

const EMPTY: Slot =
    Slot { last_used: 0, database: 0, name_len: 0, name: [0; NAME_BYTES], counters: StoreCounters::ZERO };

impl StoreCounters {
    const ZERO: StoreCounters = StoreCounters {
        logins: 0,
        lookups: 0,
        migrations: 0,
        rejections: 0,
        unknown_users: 0,
        wrong_passwords: 0,
        errors: 0,
        latency: Latency { buckets: [0; crate::domain::stats::BUCKETS] },
    };

    fn record(&mut self, event: StoreEvent) {
        match event {
            StoreEvent::Login { latency_micros } => {
                self.logins += 1;
                self.latency.record(latency_micros);
            }
            StoreEvent::Lookup { latency_micros } => {
                self.lookups += 1;
                self.latency.record(latency_micros);
            }
            StoreEvent::Migration => self.migrations += 1,
            StoreEvent::Rejection(refusal) => {
                self.rejections += 1;
                match refusal {
                    Refusal::UnknownUser => self.unknown_users += 1,
                    Refusal::WrongPassword => self.wrong_passwords += 1,
                    Refusal::Other => {}
                }
            }
            StoreEvent::Error => self.errors += 1,
        }
    }
}

impl Slot {
    fn is(&self, database: u32, name: &str) -> bool {
        self.database == database && &self.name[..self.name_len as usize] == name.as_bytes()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStatsTable {
    tick: u64,
    slots: [Slot; STORE_SLOTS],
}

impl Default for StoreStatsTable {
    fn default() -> Self {
        StoreStatsTable { tick: 0, slots: [EMPTY; STORE_SLOTS] }
    }
}

impl StoreStatsTable {
    /// Counts an event of a store; false for a name no store can have (empty, or longer than a store name).
    pub fn record(&mut self, database: u32, name: &str, event: StoreEvent) -> bool {
        if name.is_empty() || name.len() > NAME_BYTES {
            return false;
        }
        self.tick += 1;
        let index = match self.slots.iter().position(|s| s.name_len > 0 && s.is(database, name)) {
            Some(known) => known,
            None => {
                // A free slot has never been used (last_used 0), so it goes first.
                let (oldest, _) =
                    self.slots.iter().enumerate().min_by_key(|(_, s)| s.last_used).expect("the table has slots");
                let slot = &mut self.slots[oldest];
                *slot = EMPTY;
                slot.database = database;
                slot.name_len = name.len() as u8;
                slot.name[..name.len()].copy_from_slice(name.as_bytes());
                oldest
            }
        };
        let slot = &mut self.slots[index];
        slot.last_used = self.tick;
        slot.counters.record(event);
        true
    }

    /// The counters of a database's stores, by name.
    pub fn of_database(&self, database: u32) -> Vec<(String, StoreCounters)> {
        self.slots
            .iter()
            .filter(|s| s.name_len > 0 && s.database == database)
            .map(|s| (String::from_utf8_lossy(&s.name[..s.name_len as usize]).into_owned(), s.counters))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_store_of_each_database_counts_apart() {
        let mut t = StoreStatsTable::default();
        assert!(t.record(1, "crm", StoreEvent::Login { latency_micros: 700 }));
        assert!(t.record(1, "crm", StoreEvent::Rejection(Refusal::UnknownUser)));
        assert!(t.record(1, "crm", StoreEvent::Rejection(Refusal::Other)));
        assert!(t.record(1, "shop", StoreEvent::Lookup { latency_micros: 700 }));
        assert!(t.record(2, "crm", StoreEvent::Migration));
        let one = t.of_database(1);
        assert_eq!(one.len(), 2);
        let crm = one.iter().find(|(n, _)| n == "crm").unwrap().1;
        assert_eq!((crm.logins, crm.rejections, crm.migrations), (1, 2, 0));
        assert_eq!((crm.unknown_users, crm.wrong_passwords), (1, 0));
        assert_eq!(crm.latency.percentile_ms(0.5), Some(1.024));
        assert_eq!(t.of_database(2)[0].1.migrations, 1);
        assert!(t.of_database(3).is_empty());
    }

    #[test]
    fn a_full_table_forgets_the_store_unused_for_longest() {
        let mut t = StoreStatsTable::default();
        for i in 0..STORE_SLOTS {
            assert!(t.record(1, &format!("s{i}"), StoreEvent::Error));
        }
        assert!(t.record(1, "s0", StoreEvent::Error), "s0 is used again: s1 is now the oldest");
        assert!(t.record(2, "newcomer", StoreEvent::Error));
        let names: Vec<String> = t.of_database(1).into_iter().map(|(n, _)| n).collect();
        assert!(!names.contains(&"s1".to_string()) && names.contains(&"s0".to_string()), "{names:?}");
        assert_eq!(t.of_database(1).iter().find(|(n, _)| n == "s0").unwrap().1.errors, 2);
        assert_eq!(t.of_database(2)[0].1.errors, 1, "a reused slot starts from zero");
        assert!(!t.record(1, "", StoreEvent::Error));
        assert!(!t.record(1, &"x".repeat(64), StoreEvent::Error));
    }
}

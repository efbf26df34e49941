//! Successful logins waiting to be written as `auth.users.last_login_at`, kept outside any transaction (in shared
//! memory, see `crate::pg::bookkeeping`), so that a successful login is a pure read: no transaction id, no WAL, no
//! commit flush. A background worker writes them per database every second.
//!
//! Plain data with a fixed size. One mark per user (the latest login wins); a full table refuses a new user, and
//! the caller then writes that login itself.

/// Users whose last login is waiting to be written, per node (about 256 KiB of shared memory).
pub const SLOTS: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The database's oid; 0: a free slot.
    pub database: u32,
    pub user: [u8; 16],
    /// Unix microseconds of the login.
    pub at: i64,
}

impl Mark {
    const FREE: Mark = Mark { database: 0, user: [0; 16], at: 0 };
}

#[derive(Clone, Copy)]
pub struct LoginMarks {
    marks: [Mark; SLOTS],
    /// Slots in use are `marks[..used]`.
    used: usize,
}

impl LoginMarks {
    pub const EMPTY: LoginMarks = LoginMarks { marks: [Mark::FREE; SLOTS], used: 0 };

    /// Keeps the login of `user` in `database` at `at`; false when the table is full (write it now instead).
    pub fn mark(&mut self, database: u32, user: [u8; 16], at: i64) -> bool {
        let used = self.used.min(SLOTS);
        if let Some(mark) = self.marks[..used].iter_mut().find(|m| m.database == database && m.user == user) {
            mark.at = mark.at.max(at);
            return true;
        }
        if used == SLOTS {
            return false;
        }
        self.marks[used] = Mark { database, user, at };
        self.used = used + 1;
        true
    }

    /// Whether any mark is waiting, and for which databases (each once).
    pub fn databases(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for mark in &self.marks[..self.used.min(SLOTS)] {
            if !out.contains(&mark.database) {
                out.push(mark.database);
            }
        }
        out
    }

    /// Removes and returns the marks of `database` (a writer that fails to write them marks them again).
    pub fn take(&mut self, database: u32) -> Vec<Mark> {
        let used = self.used.min(SLOTS);
        let (taken, kept): (Vec<Mark>, Vec<Mark>) = self.marks[..used].iter().partition(|m| m.database == database);
        self.marks[..kept.len()].copy_from_slice(&kept);
        self.marks[kept.len()..used].fill(Mark::FREE);
        self.used = kept.len();
        taken
    }

    /// Every mark, to be saved when the server stops.
    pub fn export(&self) -> Vec<Mark> {
        self.marks[..self.used.min(SLOTS)].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u8) -> [u8; 16] {
        [n; 16]
    }

    #[test]
    fn one_mark_per_user_and_the_latest_login_wins() {
        let mut marks = LoginMarks::EMPTY;
        assert!(marks.mark(5, user(1), 100));
        assert!(marks.mark(5, user(1), 300));
        assert!(marks.mark(5, user(1), 200));
        assert_eq!(marks.take(5), [Mark { database: 5, user: user(1), at: 300 }]);
        assert!(marks.take(5).is_empty(), "taken marks are gone");
    }

    #[test]
    fn marks_given_back_keep_a_newer_login() {
        let mut marks = LoginMarks::EMPTY;
        marks.mark(5, user(1), 100);
        let taken = marks.take(5);
        marks.mark(5, user(1), 400);
        for m in &taken {
            marks.mark(m.database, m.user, m.at);
        }
        assert_eq!(marks.take(5), [Mark { database: 5, user: user(1), at: 400 }]);
    }

    #[test]
    fn databases_are_taken_apart() {
        let mut marks = LoginMarks::EMPTY;
        marks.mark(5, user(1), 1);
        marks.mark(6, user(1), 2);
        marks.mark(5, user(2), 3);
        assert_eq!(marks.databases(), [5, 6]);
        let five: Vec<i64> = marks.take(5).iter().map(|m| m.at).collect();
        assert_eq!(five, [1, 3]);
        assert_eq!(marks.databases(), [6]);
        assert_eq!(marks.export(), [Mark { database: 6, user: user(1), at: 2 }]);
    }

    #[test]
    fn a_full_table_refuses_new_users_but_still_updates_known_ones() {
        let mut marks = LoginMarks::EMPTY;
        for n in 0..SLOTS {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(n as u64).to_le_bytes());
            assert!(marks.mark(1, id, 1));
        }
        assert!(!marks.mark(1, user(0xff), 2), "full");
        assert!(marks.mark(1, [0; 16], 9), "a user already marked is updated in place");
        assert_eq!(marks.take(1).len(), SLOTS);
        assert!(marks.mark(1, user(0xff), 2), "room again once written");
    }
}

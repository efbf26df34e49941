//! Argon2id (RFC 9106) hashing, verification and the rehash decision, in PHC string form.

use super::work_memory::WorkMemory;
use crate::domain::error::AuthError;
use crate::domain::legacy_hash::{bounds, Budget, HashError};
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use std::cell::RefCell;
use subtle::ConstantTimeEq;

pub const FORMAT_NAME: &str = "argon2id";

/// Bounds an administrator may choose within. Hashing cannot be interrupted by a query cancel,
/// so the upper bounds keep one login well under a second on ordinary hardware.
pub const MEMORY_KIB_RANGE: (u32, u32) = (8 * 1024, 1024 * 1024);
pub const ITERATIONS_RANGE: (u32, u32) = (1, 16);
pub const PARALLELISM_RANGE: (u32, u32) = (1, 8);

/// Cost parameters: the OWASP-recommended defaults are m=19 MiB, t=2, p=1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

impl Argon2Params {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, AuthError> {
        let within = |v: u32, (lo, hi): (u32, u32)| (lo..=hi).contains(&v);
        if !within(memory_kib, MEMORY_KIB_RANGE)
            || !within(iterations, ITERATIONS_RANGE)
            || !within(parallelism, PARALLELISM_RANGE)
        {
            return Err(AuthError::InvalidSetting(format!(
                "argon2 parameters m={memory_kib} t={iterations} p={parallelism} are outside \
                 m {:?}, t {:?}, p {:?}",
                MEMORY_KIB_RANGE, ITERATIONS_RANGE, PARALLELISM_RANGE
            )));
        }
        if u64::from(memory_kib) * u64::from(iterations) > bounds::ARGON2_WORK {
            return Err(AuthError::InvalidSetting(format!(
                "argon2 parameters m={memory_kib} t={iterations} cost more than the bound m × t ≤ {}",
                bounds::ARGON2_WORK
            )));
        }
        if memory_kib < 8 * parallelism {
            return Err(AuthError::InvalidSetting("argon2 memory must be at least 8 KiB per lane".into()));
        }
        Ok(Self { memory_kib, iterations, parallelism })
    }

    fn block_count(&self) -> usize {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .expect("parameters were validated in Argon2Params::new")
            .block_count()
    }

    fn hasher(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .expect("parameters were validated in Argon2Params::new");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Hashes with a fresh random salt; returns the PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`).
pub fn hash_password(password: &str, params: Argon2Params, budget: Budget) -> Result<String, AuthError> {
    let salt = random_salt();
    let mut output = [0u8; OUTPUT_LEN];
    let hasher = params.hasher();
    compute(&hasher, params.block_count(), password.as_bytes(), &salt, &mut output, budget.keep_work_memory)?;
    Ok(phc_string(params, &salt, &output))
}

const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).expect("the operating system's random source is available");
    salt
}

/// `$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>`, base64 without padding as the PHC format specifies.
fn phc_string(params: Argon2Params, salt: &[u8], output: &[u8]) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    )
}

/// Working memory kept for reuse between verifications, up to this size. Argon2 writes every block before reading
/// it, so reused memory needs no clearing.
const REUSABLE_MEMORY_KIB: usize = 64 * 1024;

thread_local! {
    static WORK_MEMORY: RefCell<Option<WorkMemory>> = const { RefCell::new(None) };
}

/// Computes the raw argon2 output into `out`, reusing this thread's working memory when it is small enough and
/// `keep` says so; otherwise the memory goes back to the operating system afterwards. A mapping that cannot be
/// made is an error, never an aborted process.
fn compute(
    hasher: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    keep: bool,
) -> Result<(), AuthError> {
    let mut run = |memory: &mut WorkMemory| {
        hasher.hash_password_into_with_memory(password, salt, out, memory.blocks()).map_err(|_| AuthError::CorruptHash)
    };
    if keep && blocks <= REUSABLE_MEMORY_KIB {
        return WORK_MEMORY.with(|kept| {
            let mut kept = kept.borrow_mut();
            let mut memory = match kept.take() {
                Some(memory) if memory.len() == blocks => memory,
                stale => {
                    drop(stale);
                    WorkMemory::new(blocks)?
                }
            };
            let result = run(&mut memory);
            *kept = Some(memory);
            result
        });
    }
    if !keep {
        // Kept earlier, while the setting was on: given back now too.
        WORK_MEMORY.with(|kept| kept.borrow_mut().take());
    }
    run(&mut WorkMemory::new(blocks)?)
}

/// Refuses argon2 parameters whose verification would cost more than the bounds and the budget allow.
pub fn admit(params: &Params, format: &'static str, budget: &Budget) -> Result<(), HashError> {
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    if work > bounds::ARGON2_WORK || params.p_cost() > bounds::ARGON2_LANES {
        return Err(HashError::TooCostly {
            format,
            reason: format!("m={} t={} p={}", params.m_cost(), params.t_cost(), params.p_cost()),
        });
    }
    budget.admit(format, u64::from(params.m_cost()))
}

/// Verifies a password against a stored argon2 PHC string (argon2id, argon2i or argon2d, v=16 or
/// v=19), with the parameters the string names once they are within `budget`. The outputs are compared
/// in constant time.
pub fn verify_password(password: &str, phc: &str, budget: Budget) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(phc).map_err(|_| AuthError::CorruptHash)?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| AuthError::CorruptHash)?;
    let version = Version::try_from(parsed.version.unwrap_or(0x10)).map_err(|_| AuthError::CorruptHash)?;
    let params = Params::try_from(&parsed).map_err(|_| AuthError::CorruptHash)?;
    admit(&params, FORMAT_NAME, &budget)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(AuthError::CorruptHash);
    };
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut actual = vec![0u8; expected.len()];
    compute(&hasher, blocks, password.as_bytes(), salt.as_ref(), &mut actual, budget.keep_work_memory)?;
    Ok(bool::from(actual.ct_eq(expected.as_bytes())))
}

/// A stored hash is upgraded on the next successful login when it is not argon2id v19 with
/// exactly the current parameters — including when an admin has *lowered* them.
pub fn needs_rehash(phc: &str, current: Argon2Params) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" || parsed.version != Some(0x13) {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => {
            p.m_cost() != current.memory_kib || p.t_cost() != current.iterations || p.p_cost() != current.parallelism
        }
        Err(_) => true,
    }
}

/// A hash no password matches, with the current parameters: verifying against it costs the same
/// as a real verification, so an unknown email takes as long as a wrong password.
pub fn dummy_hash(params: Argon2Params) -> String {
    phc_string(params, &random_salt(), &[0u8; OUTPUT_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small parameters keep the unit tests fast; the algorithm is the same.
    fn fast() -> Argon2Params {
        Argon2Params::new(8 * 1024, 1, 1).unwrap()
    }

    fn kept_blocks() -> usize {
        WORK_MEMORY.with(|memory| memory.borrow().as_ref().map_or(0, WorkMemory::len))
    }

    #[test]
    fn working_memory_is_kept_or_given_back_as_the_budget_says() {
        let phc = hash_password("pw", fast(), Budget::default()).unwrap();
        assert!(verify_password("pw", &phc, Budget::default()).unwrap());
        assert_eq!(kept_blocks(), fast().block_count(), "kept for the next verification");
        let give_back = Budget { keep_work_memory: false, ..Budget::default() };
        assert!(verify_password("pw", &phc, give_back).unwrap());
        assert!(!verify_password("not pw", &phc, give_back).unwrap());
        assert_eq!(kept_blocks(), 0, "nothing held between verifications");
        assert!(hash_password("pw", fast(), give_back).unwrap().starts_with("$argon2id$"));
        assert_eq!(kept_blocks(), 0);
    }

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse", fast(), Budget::default()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{phc}");
        assert!(verify_password("correct horse", &phc, Budget::default()).unwrap());
        assert!(!verify_password("correct horsf", &phc, Budget::default()).unwrap());
        assert!(!verify_password("", &phc, Budget::default()).unwrap());
    }

    #[test]
    fn salts_differ() {
        assert_ne!(
            hash_password("same", fast(), Budget::default()).unwrap(),
            hash_password("same", fast(), Budget::default()).unwrap()
        );
    }

    /// Produced by the C reference libargon2 (through argon2-cffi): tests/vectors/argon2_reference.py.
    #[test]
    fn verifies_reference_implementation_output() {
        let vectors = [
            ("password", "$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk"),
            ("pässwörd✓", "$argon2id$v=19$m=8192,t=1,p=2$c2FsdHNhbHRzYWx0$ASNXWIg/hmh/U9V9iHtox/79AFToN+JZJHUW4puntU8"),
            ("password", "$argon2i$v=16$m=4096,t=2,p=1$c29tZXNhbHQ$0e9fFgWQ/cpvUaHJVaTQZzl8mqPg13O2Imtz+fDHKxI"),
            (
                "",
                "$argon2d$v=19$m=1024,t=3,p=4$MDEyMzQ1Njc4OWFiY2RlZg$6pBFYkIXGY3V+iQA/CcEeEyVEcM3l/HeZUycdDMGTjkeyYSW2JHlJ6ckXFMniytg/Yy7vacBvC7+ElSykStq+A",
            ),
        ];
        for (password, phc) in vectors {
            assert!(verify_password(password, phc, Budget::default()).unwrap(), "{phc}");
            assert!(!verify_password(&format!("{password}x"), phc, Budget::default()).unwrap());
        }
    }

    #[test]
    fn corrupt_hash_is_an_error_not_a_panic() {
        for bad in ["", "$argon2id$", "not a hash", "$argon2id$v=19$m=x,t=1,p=1$abc$def"] {
            assert_eq!(verify_password("x", bad, Budget::default()), Err(AuthError::CorruptHash), "{bad:?}");
        }
    }

    #[test]
    fn rehash_when_parameters_change() {
        let phc = hash_password("pw", fast(), Budget::default()).unwrap();
        assert!(!needs_rehash(&phc, fast()));
        assert!(needs_rehash(&phc, Argon2Params::new(16 * 1024, 1, 1).unwrap()));
        assert!(needs_rehash(&phc, Argon2Params::new(8 * 1024, 2, 1).unwrap()));
        assert!(needs_rehash(&phc, Argon2Params::new(8 * 1024, 1, 2).unwrap()));
        assert!(needs_rehash(
            "$argon2i$v=19$m=8192,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
            fast()
        ));
        assert!(needs_rehash("garbage", fast()));
    }

    #[test]
    fn dummy_hash_matches_nothing_and_costs_a_real_verify() {
        let dummy = dummy_hash(fast());
        assert!(!needs_rehash(&dummy, fast()), "dummy must use the current parameters");
        assert!(!verify_password("", &dummy, Budget::default()).unwrap());
        assert!(!verify_password("anything", &dummy, Budget::default()).unwrap());
    }

    #[test]
    fn parameter_bounds() {
        assert!(Argon2Params::new(19_456, 2, 1).is_ok());
        assert!(Argon2Params::new(1024, 2, 1).is_err());
        assert!(Argon2Params::new(2 * 1024 * 1024, 2, 1).is_err());
        assert!(Argon2Params::new(19_456, 0, 1).is_err());
        assert!(Argon2Params::new(19_456, 17, 1).is_err());
        assert!(Argon2Params::new(19_456, 2, 9).is_err());
        assert!(Argon2Params::new(1024 * 1024, 2, 1).is_ok());
        assert!(Argon2Params::new(1024 * 1024, 3, 1).is_err(), "over the work bound");
    }

    #[test]
    fn stored_parameters_beyond_the_bounds_are_refused_before_hashing() {
        let costly = "$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk";
        assert!(matches!(verify_password("pw", costly, Budget::default()), Err(AuthError::LegacyHash(_))));
        let phc = hash_password("pw", Argon2Params::new(64 * 1024, 1, 1).unwrap(), Budget::default()).unwrap();
        let small = Budget { max_memory_kib: 32 * 1024, ..Budget::default() };
        assert!(matches!(verify_password("pw", &phc, small), Err(AuthError::LegacyHash(_))), "over the memory budget");
    }
}

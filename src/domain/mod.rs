//! The pure core of pg_trickle: identity rules, password hashing and login decisions.
//!
//! Nothing below `domain` (nor `legacy_store`, the other pure module) may import `pgrx` or touch
//! PostgreSQL, and `domain` imports nothing from the outer rings; `architecture_tests` enforces both.
//! Everything here is unit-testable with plain `cargo test`-style `#[test]`s.

pub mod email;
pub mod error;
pub mod legacy_hash;
pub mod lockout;
pub mod login;
pub mod login_marks;
pub mod password;
pub mod rate_limit;
pub mod reset_token;
pub mod stats;
pub mod store_stats;

#[cfg(test)]
mod architecture_tests {
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The core must stay free of PostgreSQL so that it can be tested and reasoned about alone.
    #[test]
    fn pure_core_stays_free_of_postgres() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src.join("domain"), &mut files);
        rust_files(&src.join("legacy_store"), &mut files);
        assert!(files.len() > 8, "expected the pure core's sources under {src:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            // Spelled in pieces so that this test does not find itself.
            let needles = [concat!("pg", "rx"), concat!("Sp", "i::"), concat!("pg", "_sys")];
            let offending = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| needles.iter().any(|n| l.contains(n)));
            assert!(!offending, "{file:?} reaches into PostgreSQL; keep that in src/pg/");
        }
    }

    /// Calls go one way: `pg` → `legacy_store` → `domain`. The core never names an outer ring, so its errors and
    /// types flow outwards only.
    #[test]
    fn rings_import_only_inwards() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        // Spelled in pieces so that this test does not find itself.
        let (store, pg) = (concat!("crate::", "legacy_store"), concat!("crate::", "pg::"));
        let outer_of = [("domain", &[store, pg][..]), ("legacy_store", &[pg][..])];
        for (ring, outer) in outer_of {
            let mut files = Vec::new();
            rust_files(&src.join(ring), &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).expect("read source");
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    assert!(!outer.iter().any(|o| line.contains(o)), "{file:?} reaches outwards: {line}");
                }
            }
        }
    }
}

//! WordPress: `wp_check_password()` (wp-includes/pluggable.php) on the passwords WordPress's own logins hand it.
//!
//! wp-login.php reads the password from `$_POST`, which WordPress slashes (wp_magic_quotes: PHP's addslashes), and
//! `wp_authenticate()` trims it (PHP's trim); XML-RPC and the REST API pass it unslashed, trimmed the same way. A
//! password set through those paths was stored that way too. So WordPress accepts a typed password P exactly when
//! the stored hash matches trim(P) or trim(addslashes(P)) — the two candidates tried here, in that order, each only
//! when not empty. The stored hash is read as wp_check_password reads it: 32 characters or fewer, the hex MD5 of
//! WordPress before 2.5; `$wp`, WordPress 6.8's bcrypt; `$P$`, phpass; anything else, PHP's password_verify
//! (bcrypt or argon2, as password plugins store them).

use super::{bcrypt_family, crypt_family, digests, malformed, memory_hard, Budget, Check, HashError};
use serde_json::Value;

/// What PHP's trim() removes from both ends.
const PHP_WHITESPACE: &[char] = &[' ', '\t', '\n', '\r', '\0', '\x0B'];

fn php_trim(text: &str) -> &str {
    text.trim_matches(PHP_WHITESPACE)
}

/// PHP's addslashes(): a backslash before `'`, `"`, `\` and NUL.
fn add_slashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '\'' | '"' | '\\' | '\0') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The passwords WordPress's logins would check for what the user typed.
fn candidates(typed: &str) -> Vec<String> {
    let mut out = vec![php_trim(typed).to_string()];
    let slashed = php_trim(&add_slashes(typed)).to_string();
    if slashed != out[0] {
        out.push(slashed);
    }
    out.retain(|candidate| !candidate.is_empty());
    out
}

/// The check of one candidate against the stored hash, parsed (and its costs bounded) as wp_check_password reads it.
fn stored<'a>(hash: &'a str, budget: &Budget) -> Result<Check<'a>, HashError> {
    const NO_PARAMS: Value = Value::Null;
    if hash.len() <= 32 {
        digests::plain(hash, "md5", &NO_PARAMS)
    } else if hash.starts_with("$wp") {
        bcrypt_family::wp_bcrypt(hash)
    } else if hash.starts_with("$P$") {
        crypt_family::phpass(hash, "phpass", budget)
    } else if hash.starts_with("$2") {
        bcrypt_family::bcrypt(hash)
    } else if hash.starts_with("$argon2") {
        memory_hard::argon2(hash, budget)
    } else {
        Err(malformed("wordpress", "not a hash wp_check_password reads ($wp, $P$, $2y$, $argon2, or a 32-hex MD5)"))
    }
}

pub fn wordpress<'a>(hash: &'a str, budget: &Budget) -> Result<Check<'a>, HashError> {
    // Parsed once now, so a malformed or too costly hash is refused before any password is tried.
    stored(hash, budget).map(drop)?;
    let budget = *budget;
    super::check(move |typed: &str| {
        for candidate in candidates(typed) {
            if stored(hash, &budget)?(&candidate)? {
                return Ok(true);
            }
        }
        Ok(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_candidates_are_what_wordpress_logins_pass() {
        assert_eq!(candidates("plain"), ["plain"]);
        assert_eq!(candidates("  spaced\t\n"), ["spaced"]);
        assert_eq!(candidates(r#"it's "q" \b"#), [r#"it's "q" \b"#, r#"it\'s \"q\" \\b"#]);
        assert_eq!(candidates(" it's "), ["it's", r"it\'s"]);
        assert_eq!(candidates("   "), Vec::<String>::new(), "blank never verifies");
        assert_eq!(candidates("\u{a0}nbsp\u{a0}"), ["\u{a0}nbsp\u{a0}"], "PHP's trim leaves non-ASCII spaces");
    }
}

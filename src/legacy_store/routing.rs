//! Which legacy stores are asked about an email: every store in its order, unless the admin limited a store to
//! email domains (as FusionAuth's connector policies do) — then only emails of those domains.

use crate::legacy_store::StoreError;

/// At most this many domains per store, each at most 253 bytes (a DNS name).
pub const MAX_DOMAINS: usize = 1000;
const MAX_DOMAIN_BYTES: usize = 253;

/// A store name: what `auth.legacy_stores.name` allows (lower-case letters, digits, `_`, starting with a letter).
pub fn check_store_name(name: &str) -> Result<(), StoreError> {
    let fits = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if fits {
        Ok(())
    } else {
        Err(StoreError::InvalidConfig("a store name is 1 to 63 lower-case letters, digits or _, from a letter".into()))
    }
}

/// The admin's domain list, checked and lower-cased as emails are (`domain::email`); an empty list is refused (it
/// would make a store no email reaches).
pub fn normalize_domains(domains: &[String]) -> Result<Vec<String>, StoreError> {
    let bad = |why: &str| Err(StoreError::InvalidConfig(format!("email_domains: {why}")));
    if domains.is_empty() {
        return bad("give at least one domain, or NULL for every email");
    }
    if domains.len() > MAX_DOMAINS {
        return bad("at most 1000 domains");
    }
    let mut out = Vec::with_capacity(domains.len());
    for domain in domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        if domain.is_empty() || domain.len() > MAX_DOMAIN_BYTES || domain.contains(['@', ' ', ',']) {
            return bad("each is a domain such as example.com");
        }
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    Ok(out)
}

/// Whether a store limited to `domains` (None: not limited) is asked about a normalised email.
pub fn serves(domains: Option<&[String]>, email: &str) -> bool {
    match (domains, email.rsplit_once('@')) {
        (None, _) => true,
        (Some(domains), Some((_, domain))) => domains.iter().any(|d| d == domain),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_limited_to_domains_serves_those_emails_only() {
        let domains = normalize_domains(&["Acme.example".into(), "@old.example".into()]).unwrap();
        assert_eq!(domains, ["acme.example", "old.example"]);
        assert!(serves(Some(&domains), "ann@acme.example"));
        assert!(serves(Some(&domains), "bob@old.example"));
        assert!(!serves(Some(&domains), "eve@sub.acme.example"), "a subdomain is another domain");
        assert!(!serves(Some(&domains), "eve@acme.example.evil"));
        assert!(serves(None, "anyone@anywhere.example"));
    }

    #[test]
    fn bad_domain_lists_and_names_are_refused() {
        for list in [vec![], vec!["".to_string()], vec!["a@b.c".to_string()], vec!["a b".to_string()]] {
            assert!(normalize_domains(&list).is_err(), "{list:?}");
        }
        assert!(normalize_domains(&vec!["a.example".to_string(); MAX_DOMAINS + 1]).is_err());
        for name in ["default", "acme_2", "b"] {
            assert!(check_store_name(name).is_ok(), "{name}");
        }
        for name in ["", "Acme", "2acme", "a-b", "a b", &"a".repeat(64)] {
            assert!(check_store_name(name).is_err(), "{name}");
        }
    }
}

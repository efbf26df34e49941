SELECT auth.verify_legacy_hash(:pw, :hash);

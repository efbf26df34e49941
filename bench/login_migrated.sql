\set n random(:first_migrated, :users)
SELECT ok FROM auth.login('migrate' || :n || '@legacy.test', 'legacy-password-' || :n);

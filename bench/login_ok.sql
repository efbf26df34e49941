\set n random(1, 100)
SELECT ok FROM auth.login('bench' || :n || '@example.org', :password);

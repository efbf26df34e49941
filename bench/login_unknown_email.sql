\set n random(1, 100)
SELECT ok FROM auth.login('nobody' || :n || '@example.org', :password);

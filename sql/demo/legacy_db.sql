-- The demo's legacy application database: a users table as an old app kept it (run by scripts/demo.sh;
-- the hashes are made there with `openssl passwd -6`, SHA-512 crypt, and passed in as psql variables).
CREATE TABLE users (
    uid       bigint PRIMARY KEY,
    mail      text NOT NULL,
    pw        text,
    full_name text,
    prefs     jsonb
);
CREATE INDEX users_lower_mail_idx ON users (lower(mail));
INSERT INTO users VALUES
    (7, 'Margaret.Hamilton@Old-App.example', :'hamilton_hash', 'Margaret Hamilton', '{"team": "apollo"}'),
    (8, 'Katherine.Johnson@Old-App.example', :'johnson_hash', 'Katherine Johnson', '{"team": "flight"}'),
    (9, 'Dorothy.Vaughan@Old-App.example', :'vaughan_hash', 'Dorothy Vaughan', '{"team": "fortran"}');

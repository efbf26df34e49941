-- Imports a `firebase auth:export USERS.json --format=json` file into auth.users, for the users who never log in
-- while the Firebase preset is on (docs/providers/firebase.md). Each keeps their Firebase password: the hash is
-- verified with the project's scrypt parameters at their first login and replaced with argon2id then.
--
--   psql -d DB -v export_file=/secure/users.json -v signer_key='BASE64' -v salt_separator='Bw==' \
--        -v rounds=8 -v mem_cost=14 -f docs/providers/firebase-export.sql
--
-- The parameters are the project's "Password hash parameters" (Firebase console → Authentication → Users → ⋮);
-- the file is read by the server (pg_read_file: a superuser, or a member of pg_read_server_files). Run it as a
-- superuser or an admin; it is idempotent (users already present are skipped or refreshed, never duplicated).
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE public.pg_trickle_firebase_export AS
SELECT u ->> 'localId' AS local_id,
       u ->> 'email' AS email,
       COALESCE((u ->> 'emailVerified')::boolean, false) AS email_verified,
       NOT COALESCE((u ->> 'disabled')::boolean, false) AS enabled,
       u ->> 'displayName' AS name,
       u ->> 'photoUrl' AS picture,
       -- Custom claims, set by the project's admin SDK: what the application decides about the user.
       COALESCE((u ->> 'customAttributes')::jsonb, '{}') AS app_metadata,
       u ->> 'passwordHash' AS password_hash,
       jsonb_build_object('salt', u ->> 'salt', 'signer_key', :'signer_key', 'salt_separator', :'salt_separator',
                          'rounds', (:'rounds')::int, 'mem_cost', (:'mem_cost')::int) AS hash_params
  FROM jsonb_array_elements(pg_read_file(:'export_file')::jsonb -> 'users') AS u;
-- An import run by a superuser reads its source as trickle_admin.
GRANT SELECT ON public.pg_trickle_firebase_export TO trickle_admin;
SELECT inserted, updated, skipped, rejected, rejections
  FROM auth.import_users('public.pg_trickle_firebase_export',
         '{"id": "local_id", "email": "email", "email_verified": "email_verified", "enabled": "enabled",
           "name": "name", "picture": "picture", "app_metadata": "app_metadata", "password_hash": "password_hash",
           "hash_format": "firebase_scrypt", "hash_params_column": "hash_params"}');
-- The hashes live on in auth.users only.
DROP TABLE public.pg_trickle_firebase_export;
COMMIT;

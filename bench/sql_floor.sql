SELECT auth.version();

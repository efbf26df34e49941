INSERT INTO auth.migration_events (email, flow, adapter, outcome, latency_ms, error_class)
VALUES ($1, $2, $3, $4, $5, $6)

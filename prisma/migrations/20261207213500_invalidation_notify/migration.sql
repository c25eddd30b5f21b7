-- Every change that can end a token or alter a client, a resource server or the keys is announced on
-- the channel tollgate_invalidation by the statement that makes it: PostgreSQL delivers a notification
-- when, and only if, its transaction commits, so no change can be committed (and acknowledged) while
-- the announcement is lost, whichever process, connection or tool makes it (src/cache/pg-bus.ts).

-- Sends the events (a JSON array, or NULL for none) as notifications of at most 20 events: a payload
-- must stay under 8000 bytes, and an event is at most ~300.
CREATE FUNCTION tollgate_announce(events jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  FOR payload IN
    SELECT jsonb_build_object('events', jsonb_agg(event ORDER BY n))::text
    FROM jsonb_array_elements(events) WITH ORDINALITY AS listed(event, n)
    GROUP BY (n - 1) / 20
    ORDER BY (n - 1) / 20
  LOOP
    PERFORM pg_notify('tollgate_invalidation', payload);
  END LOOP;
END $$;

-- Tokens and grants that end (revoked, or deleted with their client or user). Rows that expired over
-- a minute ago (the cleanup's) are no instance's cached answer: a token is cached only until it expires.
CREATE FUNCTION tollgate_announce_payloads_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tollgate_announce((
    SELECT jsonb_agg(CASE WHEN model = 'Grant' THEN jsonb_build_object('kind', 'grant', 'id', grant_id) ELSE jsonb_build_object('kind', 'token', 'id', id) END)
    FROM gone
    WHERE (model IN ('AccessToken', 'ClientCredentials', 'RefreshToken') OR (model = 'Grant' AND grant_id IS NOT NULL))
      AND (expires_at IS NULL OR expires_at > (now() AT TIME ZONE 'UTC') - interval '1 minute')));
  RETURN NULL;
END $$;

CREATE TRIGGER tollgate_announce_deleted AFTER DELETE ON "oidc_payloads"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_payloads_deleted();

-- A client updated (disabled, secret rotated, ...) or deleted; a resource server created, updated or
-- deleted. The trigger's argument is the event's kind, each changed row's id the event's id.
CREATE FUNCTION tollgate_announce_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tollgate_announce((SELECT jsonb_agg(jsonb_build_object('kind', TG_ARGV[0], 'id', id)) FROM changed));
  RETURN NULL;
END $$;

CREATE TRIGGER tollgate_announce_updated AFTER UPDATE ON "clients"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_rows_changed('client');
CREATE TRIGGER tollgate_announce_deleted AFTER DELETE ON "clients"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_rows_changed('client');
CREATE TRIGGER tollgate_announce_inserted AFTER INSERT ON "resource_servers"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_rows_changed('resource_server');
CREATE TRIGGER tollgate_announce_updated AFTER UPDATE ON "resource_servers"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_rows_changed('resource_server');
CREATE TRIGGER tollgate_announce_deleted AFTER DELETE ON "resource_servers"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_rows_changed('resource_server');

-- The keys changed phase, or were added or removed: every instance reloads them.
CREATE FUNCTION tollgate_announce_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tollgate_invalidation', '{"events":[{"kind":"keys"}]}');
  RETURN NULL;
END $$;

CREATE TRIGGER tollgate_announce_changed AFTER INSERT OR UPDATE OR DELETE ON "provider_keys"
  FOR EACH STATEMENT EXECUTE FUNCTION tollgate_announce_keys_changed();

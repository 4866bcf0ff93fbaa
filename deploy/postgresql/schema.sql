-- DiffusionCluster on PostgreSQL: Orleans ADO.NET membership, request state (grain persistence) and the
-- reminders that pick up requests whose silo was lost.
--
-- The Orleans ADO.NET packages ship no SQL. They read their statements from the table OrleansQuery by key
-- and run them with named parameters (@DeploymentId, @GrainIdHash, ...); the rows below are this project's
-- own statements for those keys. Safe to apply again: tables are created if missing, functions and
-- statements are replaced.
--
-- Apply with:  diffusion-cluster cluster schema --connection "Host=...;Database=...;Username=..."

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL PRIMARY KEY,
    QueryText varchar(8000) NOT NULL
);

-- One row per cluster (deployment): a version every membership change must bump, so that two silos
-- changing membership at once cannot both win (optimistic concurrency).
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL PRIMARY KEY,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0
);

-- One row per silo incarnation (address, port, generation).
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Creates the cluster's version row; 1 if created, 0 if it already existed.
CREATE OR REPLACE FUNCTION dc_membership_version_create(deployment varchar)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (deployment)
    ON CONFLICT (DeploymentId) DO NOTHING;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN QUERY SELECT changed;
END $$;

-- Adds a silo row and bumps the version, both or neither: 1 on success, 0 when the row exists or the
-- caller's version is stale (the sub-transaction rolls back the insert).
CREATE OR REPLACE FUNCTION dc_membership_insert(
    deployment varchar, address_in varchar, port_in integer, generation_in integer, silo_name varchar,
    host_name varchar, status_in integer, proxy_port integer, start_time timestamptz, alive_time timestamptz,
    expected_version integer)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    BEGIN
        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
        VALUES
            (deployment, address_in, port_in, generation_in, silo_name, host_name, status_in, proxy_port, start_time, alive_time)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'silo row exists'; END IF;
        UPDATE OrleansMembershipVersionTable
        SET Version = Version + 1, Timestamp = now()
        WHERE DeploymentId = deployment AND Version = expected_version;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'stale version'; END IF;
        RETURN QUERY SELECT 1;
    EXCEPTION WHEN raise_exception THEN
        RETURN QUERY SELECT 0;
    END;
END $$;

-- Changes a silo row (status, suspicions, liveness) and bumps the version, both or neither.
CREATE OR REPLACE FUNCTION dc_membership_update(
    deployment varchar, address_in varchar, port_in integer, generation_in integer, status_in integer,
    suspect_times varchar, alive_time timestamptz, expected_version integer)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    BEGIN
        UPDATE OrleansMembershipVersionTable
        SET Version = Version + 1, Timestamp = now()
        WHERE DeploymentId = deployment AND Version = expected_version;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'stale version'; END IF;
        UPDATE OrleansMembershipTable
        SET Status = status_in, SuspectTimes = suspect_times, IAmAliveTime = alive_time
        WHERE DeploymentId = deployment AND Address = address_in AND Port = port_in AND Generation = generation_in;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'no such silo'; END IF;
        RETURN QUERY SELECT 1;
    EXCEPTION WHEN raise_exception THEN
        RETURN QUERY SELECT 0;
    END;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey',
 'SELECT row_count FROM dc_membership_version_create(@DeploymentId);'),

('InsertMembershipKey',
 'SELECT row_count FROM dc_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
      @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);'),

('UpdateMembershipKey',
 'SELECT row_count FROM dc_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
      @SuspectTimes, @IAmAliveTime, @Version);'),

-- Liveness heartbeat: no version bump, never expected to fail.
('UpdateIAmAlivetimeKey',
 'UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
  WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;'),

-- One silo''s row with the cluster version; the version row comes back even when the silo has none.
('MembershipReadRowKey',
 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
         m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m
    ON m.DeploymentId = v.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
  WHERE v.DeploymentId = @DeploymentId;'),

('MembershipReadAllKey',
 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
         m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
  WHERE v.DeploymentId = @DeploymentId;'),

-- Gateways clients may connect to: active silos (status given by the caller) with a proxy port.
('GatewaysQueryKey',
 'SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
  WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;'),

('DeleteMembershipTableEntriesKey',
 'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
  DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;'),

-- Rows of silos that stopped heart-beating before the cut-off and are not active (3 = Active).
('CleanupDefunctSiloEntriesKey',
 'DELETE FROM OrleansMembershipTable
  WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- ---------------------------------------------------------------------------------------------------------
-- Request state: one row per request grain (its spec, owner, state and finished image), written by
-- Microsoft.Orleans.Persistence.AdoNet. Version is the optimistic-concurrency tag: a write names the version it
-- read, and a write from a stale activation changes nothing (Orleans then raises InconsistentStateException).
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer        NOT NULL,
    GrainIdN0              bigint         NOT NULL,
    GrainIdN1              bigint         NOT NULL,
    GrainTypeHash          integer        NOT NULL,
    GrainTypeString        varchar(512)   NOT NULL,
    GrainIdExtensionString varchar(512)   NULL,
    ServiceId              varchar(150)   NOT NULL,
    PayloadBinary          bytea          NULL,
    ModifiedOn             timestamptz(3) NOT NULL DEFAULT now(),
    Version                integer        NOT NULL
);

CREATE INDEX IF NOT EXISTS OrleansStorage_Grain ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Writes a grain's state: updates the row at the caller's version, or inserts version 1 when the caller read
-- none. Returns the new version, or the caller's when nothing changed (a conflict).
CREATE OR REPLACE FUNCTION dc_storage_write(
    id_hash integer, id_n0 bigint, id_n1 bigint, type_hash integer, type_string varchar, id_extension varchar,
    service varchar, expected_version integer, payload bytea)
RETURNS TABLE (NewGrainStateVersion integer) LANGUAGE plpgsql AS $$
DECLARE changed integer := 0;
BEGIN
    IF expected_version IS NOT NULL THEN
        UPDATE OrleansStorage
        SET PayloadBinary = payload, ModifiedOn = now(), Version = Version + 1
        WHERE GrainIdHash = id_hash AND GrainTypeHash = type_hash AND GrainIdN0 = id_n0 AND GrainIdN1 = id_n1
          AND GrainTypeString = type_string AND GrainIdExtensionString IS NOT DISTINCT FROM id_extension
          AND ServiceId = service AND Version = expected_version;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN changed > 0 THEN expected_version + 1 ELSE expected_version END;
    ELSE
        -- Serialises first writes of one grain, so two activations cannot both insert.
        PERFORM pg_advisory_xact_lock(id_hash);
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, Version)
        SELECT id_hash, id_n0, id_n1, type_hash, type_string, id_extension, service, payload, 1
        WHERE NOT EXISTS (
            SELECT 1 FROM OrleansStorage
            WHERE GrainIdHash = id_hash AND GrainTypeHash = type_hash AND GrainIdN0 = id_n0 AND GrainIdN1 = id_n1
              AND GrainTypeString = type_string AND GrainIdExtensionString IS NOT DISTINCT FROM id_extension
              AND ServiceId = service);
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN changed > 0 THEN 1 ELSE NULL::integer END;
    END IF;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey',
 'SELECT NewGrainStateVersion FROM dc_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
      @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);'),

('ReadFromStorageKey',
 'SELECT PayloadBinary, Version FROM OrleansStorage
  WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
    AND GrainTypeString = @GrainTypeString AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
    AND ServiceId = @ServiceId;'),

('ClearStorageKey',
 'UPDATE OrleansStorage SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
  WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
    AND GrainTypeString = @GrainTypeString AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
    AND ServiceId = @ServiceId AND Version = @GrainStateVersion
  RETURNING Version AS NewGrainStateVersion;'),

-- Expired requests are deleted, not left as empty rows (DeleteStateOnClear).
('DeleteStorageKey',
 'DELETE FROM OrleansStorage
  WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
    AND GrainTypeString = @GrainTypeString AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
    AND ServiceId = @ServiceId AND Version = @GrainStateVersion
  RETURNING Version + 1 AS NewGrainStateVersion;')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- ---------------------------------------------------------------------------------------------------------
-- Reminders (Microsoft.Orleans.Reminders.AdoNet): each unfinished request holds one, so that if its silo is
-- lost the silo that takes over the reminder's hash range activates the request again and it resumes. Each
-- silo reads the reminders of its range (GrainHash); Period is in milliseconds.
CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)   NOT NULL,
    GrainId      varchar(150)   NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS OrleansRemindersTable_Hash ON OrleansRemindersTable (ServiceId, GrainHash);

-- Inserts or replaces a reminder; returns its new version (the reminder's etag).
CREATE OR REPLACE FUNCTION dc_reminder_upsert(
    service varchar, grain varchar, reminder varchar, start_time timestamptz, period_ms bigint, grain_hash integer)
RETURNS TABLE (Version integer) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    INSERT INTO OrleansRemindersTable AS r (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (service, grain, reminder, start_time, period_ms, grain_hash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
        SET StartTime = EXCLUDED.StartTime, Period = EXCLUDED.Period, GrainHash = EXCLUDED.GrainHash, Version = r.Version + 1
    RETURNING r.Version;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey',
 'SELECT Version FROM dc_reminder_upsert(@ServiceId, @GrainId, @ReminderName, @StartTime, @Period::bigint, @GrainHash);'),

('ReadReminderRowsKey',
 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
  WHERE ServiceId = @ServiceId AND GrainId = @GrainId;'),

('ReadReminderRowKey',
 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
  WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;'),

-- A silo''s range of the hash ring, (BeginHash, EndHash]; the second form is a range that wraps around.
('ReadRangeRows1Key',
 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
  WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;'),

('ReadRangeRows2Key',
 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
  WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);'),

-- Deletes a reminder at the caller''s version: true when it did.
('DeleteReminderRowKey',
 'WITH deleted AS (
      DELETE FROM OrleansRemindersTable
      WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND Version = @Version
      RETURNING 1)
  SELECT count(*) > 0 FROM deleted;'),

('DeleteReminderRowsKey',
 'DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

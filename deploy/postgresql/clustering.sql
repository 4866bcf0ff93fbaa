-- DiffusionCluster: Orleans ADO.NET membership on PostgreSQL.
--
-- Microsoft.Orleans.Clustering.AdoNet ships no SQL. It reads its statements from the table OrleansQuery by
-- key and runs them with named parameters (@DeploymentId, @Address, ...); the rows below are this project's
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

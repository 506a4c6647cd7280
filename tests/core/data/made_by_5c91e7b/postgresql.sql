--
-- PostgreSQL database dump
--

\restrict PgXgIV6xTcKJlMHqqVoWJeueCEjurxVg3Jga1ebUkivjaEqniib8Mpw1KgCnOLv

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: made_by_5c91e7b; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA made_by_5c91e7b;


--
-- Name: procrastinate_job_event_type; Type: TYPE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TYPE made_by_5c91e7b.procrastinate_job_event_type AS ENUM (
    'deferred',
    'started',
    'deferred_for_retry',
    'failed',
    'succeeded',
    'cancelled',
    'abort_requested',
    'aborted',
    'scheduled',
    'retried'
);


--
-- Name: procrastinate_job_status; Type: TYPE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TYPE made_by_5c91e7b.procrastinate_job_status AS ENUM (
    'todo',
    'doing',
    'succeeded',
    'failed',
    'cancelled',
    'aborting',
    'aborted'
);


--
-- Name: procrastinate_job_to_defer_v1; Type: TYPE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TYPE made_by_5c91e7b.procrastinate_job_to_defer_v1 AS (
	queue_name character varying,
	task_name character varying,
	priority integer,
	lock text,
	queueing_lock text,
	args jsonb,
	scheduled_at timestamp with time zone
);


--
-- Name: crane_notify_events(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.crane_notify_events() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('crane_events', run_id) FROM (SELECT DISTINCT run_id FROM written) AS r;
    RETURN NULL;
END;
$$;


--
-- Name: procrastinate_cancel_job_v1(bigint, boolean, boolean); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_cancel_job_v1(job_id bigint, abort boolean, delete_job boolean) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status = 'todo'
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        IF abort THEN
            UPDATE procrastinate_jobs
            SET abort_requested = true,
                status = CASE status
                    WHEN 'todo' THEN 'cancelled'::procrastinate_job_status ELSE status
                END
            WHERE id = job_id AND status IN ('todo', 'doing')
            RETURNING id INTO _job_id;
        ELSE
            UPDATE procrastinate_jobs
            SET status = 'cancelled'::procrastinate_job_status
            WHERE id = job_id AND status = 'todo'
            RETURNING id INTO _job_id;
        END IF;
    END IF;
    RETURN _job_id;
END;
$$;


--
-- Name: procrastinate_defer_jobs_v1(made_by_5c91e7b.procrastinate_job_to_defer_v1[]); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_defer_jobs_v1(jobs made_by_5c91e7b.procrastinate_job_to_defer_v1[]) RETURNS bigint[]
    LANGUAGE plpgsql
    AS $$
DECLARE
    job_ids bigint[];
BEGIN
    WITH inserted_jobs AS (
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
        SELECT (job).queue_name,
               (job).task_name,
               (job).priority,
               (job).lock,
               (job).queueing_lock,
               (job).args,
               (job).scheduled_at
        FROM unnest(jobs) AS job
        RETURNING id
    )
    SELECT array_agg(id) FROM inserted_jobs INTO job_ids;

    RETURN job_ids;
END;
$$;


--
-- Name: procrastinate_defer_periodic_job_v2(character varying, character varying, character varying, character varying, integer, character varying, bigint, jsonb); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_defer_periodic_job_v2(_queue_name character varying, _lock character varying, _queueing_lock character varying, _task_name character varying, _priority integer, _periodic_id character varying, _defer_timestamp bigint, _args jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
	_job_id bigint;
	_defer_id bigint;
BEGIN
    INSERT
        INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
        VALUES (_task_name, _periodic_id, _defer_timestamp)
        ON CONFLICT DO NOTHING
        RETURNING id into _defer_id;

    IF _defer_id IS NULL THEN
        RETURN NULL;
    END IF;

    UPDATE procrastinate_periodic_defers
        SET job_id = (
            SELECT COALESCE((
                SELECT unnest(procrastinate_defer_jobs_v1(
                    ARRAY[
                        ROW(
                            _queue_name,
                            _task_name,
                            _priority,
                            _lock,
                            _queueing_lock,
                            _args,
                            NULL::timestamptz
                        )
                    ]::procrastinate_job_to_defer_v1[]
                ))
            ), NULL)
        )
        WHERE id = _defer_id
        RETURNING job_id INTO _job_id;

    DELETE
        FROM procrastinate_periodic_defers
        USING (
            SELECT id
            FROM procrastinate_periodic_defers
            WHERE procrastinate_periodic_defers.task_name = _task_name
            AND procrastinate_periodic_defers.periodic_id = _periodic_id
            AND procrastinate_periodic_defers.defer_timestamp < _defer_timestamp
            ORDER BY id
            FOR UPDATE
        ) to_delete
        WHERE procrastinate_periodic_defers.id = to_delete.id;

    RETURN _job_id;
END;
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: procrastinate_jobs; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.procrastinate_jobs (
    id bigint NOT NULL,
    queue_name character varying(128) NOT NULL,
    task_name character varying(128) NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    lock text,
    queueing_lock text,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    status made_by_5c91e7b.procrastinate_job_status DEFAULT 'todo'::made_by_5c91e7b.procrastinate_job_status NOT NULL,
    scheduled_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    abort_requested boolean DEFAULT false NOT NULL,
    worker_id bigint,
    CONSTRAINT check_not_todo_abort_requested CHECK ((NOT ((status = 'todo'::made_by_5c91e7b.procrastinate_job_status) AND (abort_requested = true))))
);


--
-- Name: procrastinate_fetch_job_v2(character varying[], bigint); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_fetch_job_v2(target_queue_names character varying[], p_worker_id bigint) RETURNS made_by_5c91e7b.procrastinate_jobs
    LANGUAGE plpgsql
    AS $$
DECLARE
	found_jobs procrastinate_jobs;
BEGIN
    WITH candidate AS (
        SELECT jobs.*
            FROM procrastinate_jobs AS jobs
            WHERE
                -- reject the job if its lock has earlier or higher priority jobs
                NOT EXISTS (
                    SELECT 1
                        FROM procrastinate_jobs AS other_jobs
                        WHERE
                            jobs.lock IS NOT NULL
                            AND other_jobs.lock = jobs.lock
                            AND (
                                -- job with same lock is already running
                                other_jobs.status = 'doing'
                                OR
                                -- job with same lock is waiting and has higher priority (or same priority but was queued first)
                                (
                                    other_jobs.status = 'todo'
                                    AND (
                                        other_jobs.priority > jobs.priority
                                        OR (
                                        other_jobs.priority = jobs.priority
                                        AND other_jobs.id < jobs.id
                                        )
                                    )
                                )
                            )
                )
                AND jobs.status = 'todo'
                AND (target_queue_names IS NULL OR jobs.queue_name = ANY( target_queue_names ))
                AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
            ORDER BY jobs.priority DESC, jobs.id ASC LIMIT 1
            FOR UPDATE OF jobs SKIP LOCKED
    )
    UPDATE procrastinate_jobs
        SET status = 'doing', worker_id = p_worker_id
        FROM candidate
        WHERE procrastinate_jobs.id = candidate.id
        RETURNING procrastinate_jobs.* INTO found_jobs;

 RETURN found_jobs;
END;
$$;


--
-- Name: procrastinate_finish_job_v1(bigint, made_by_5c91e7b.procrastinate_job_status, boolean); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_finish_job_v1(job_id bigint, end_status made_by_5c91e7b.procrastinate_job_status, delete_job boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF end_status NOT IN ('succeeded', 'failed', 'aborted') THEN
        RAISE 'End status should be either "succeeded", "failed" or "aborted" (job id: %)', job_id;
    END IF;
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = end_status,
            abort_requested = false,
            attempts = CASE status
                WHEN 'doing' THEN attempts + 1 ELSE attempts
            END
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" or "todo" status (job id: %)', job_id;
    END IF;
END;
$$;


--
-- Name: procrastinate_notify_queue_abort_job_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_notify_queue_abort_job_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'abort_job_requested', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;


--
-- Name: procrastinate_notify_queue_job_inserted_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_notify_queue_job_inserted_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'job_inserted', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;


--
-- Name: procrastinate_prune_stalled_workers_v1(double precision); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_prune_stalled_workers_v1(seconds_since_heartbeat double precision) RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
    RETURN QUERY
    DELETE FROM procrastinate_workers
    WHERE last_heartbeat < NOW() - (seconds_since_heartbeat || 'SECOND')::INTERVAL
    RETURNING procrastinate_workers.id;
END;
$$;


--
-- Name: procrastinate_register_worker_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_register_worker_v1() RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
    RETURN QUERY
    INSERT INTO procrastinate_workers DEFAULT VALUES
    RETURNING procrastinate_workers.id;
END;
$$;


--
-- Name: procrastinate_retry_job_v1(bigint, timestamp with time zone, integer, character varying, character varying); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_retry_job_v1(job_id bigint, retry_at timestamp with time zone, new_priority integer, new_queue_name character varying, new_lock character varying) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
BEGIN
    SELECT abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status = 'doing'
    FOR UPDATE
    INTO _abort_requested;
    IF _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" status (job id: %)', job_id;
    END IF;
END;
$$;


--
-- Name: procrastinate_retry_job_v2(bigint, timestamp with time zone, integer, character varying, character varying); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_retry_job_v2(job_id bigint, retry_at timestamp with time zone, new_priority integer, new_queue_name character varying, new_lock character varying) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
    _current_status procrastinate_job_status;
BEGIN
    SELECT status, abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status IN ('doing', 'failed')
    FOR UPDATE
    INTO _current_status, _abort_requested;
    IF _current_status = 'doing' AND _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status IN ('doing', 'failed')
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or has an invalid status to retry (job id: %)', job_id;
    END IF;

END;
$$;


--
-- Name: procrastinate_trigger_abort_requested_events_procedure_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_trigger_abort_requested_events_procedure_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'abort_requested'::procrastinate_job_event_type);
    RETURN NEW;
END;
$$;


--
-- Name: procrastinate_trigger_function_scheduled_events_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_scheduled_events_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type, at)
        VALUES (NEW.id, 'scheduled'::procrastinate_job_event_type, NEW.scheduled_at);

	RETURN NEW;
END;
$$;


--
-- Name: procrastinate_trigger_function_status_events_insert_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_status_events_insert_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'deferred'::procrastinate_job_event_type);
	RETURN NEW;
END;
$$;


--
-- Name: procrastinate_trigger_function_status_events_update_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_status_events_update_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH t AS (
        SELECT CASE
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND NEW.status = 'doing'::procrastinate_job_status
                THEN 'started'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'deferred_for_retry'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'failed'::procrastinate_job_status
                THEN 'failed'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'succeeded'::procrastinate_job_status
                THEN 'succeeded'::procrastinate_job_event_type
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND (
                    NEW.status = 'cancelled'::procrastinate_job_status
                    OR NEW.status = 'failed'::procrastinate_job_status
                    OR NEW.status = 'succeeded'::procrastinate_job_status
                )
                THEN 'cancelled'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'aborted'::procrastinate_job_status
                THEN 'aborted'::procrastinate_job_event_type
            WHEN OLD.status = 'failed'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'retried'::procrastinate_job_event_type
            ELSE NULL
        END as event_type
    )
    INSERT INTO procrastinate_events(job_id, type)
        SELECT NEW.id, t.event_type
        FROM t
        WHERE t.event_type IS NOT NULL;
	RETURN NEW;
END;
$$;


--
-- Name: procrastinate_unlink_periodic_defers_v1(); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_unlink_periodic_defers_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE procrastinate_periodic_defers
    SET job_id = NULL
    WHERE job_id = OLD.id;
    RETURN OLD;
END;
$$;


--
-- Name: procrastinate_unregister_worker_v1(bigint); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_unregister_worker_v1(worker_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM procrastinate_workers
    WHERE id = worker_id;
END;
$$;


--
-- Name: procrastinate_update_heartbeat_v1(bigint); Type: FUNCTION; Schema: made_by_5c91e7b; Owner: -
--

CREATE FUNCTION made_by_5c91e7b.procrastinate_update_heartbeat_v1(worker_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE procrastinate_workers
    SET last_heartbeat = NOW()
    WHERE id = worker_id;
END;
$$;


--
-- Name: approvals; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.approvals (
    run_id text NOT NULL,
    idx integer NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    status text NOT NULL,
    question text NOT NULL,
    detail text NOT NULL,
    requested_at text NOT NULL,
    expires_at text NOT NULL,
    decided_at text,
    decided_by text,
    place text
);


--
-- Name: conversations; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.conversations (
    id bigint NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    key text NOT NULL,
    created_at text NOT NULL
);


--
-- Name: conversations_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE made_by_5c91e7b.conversations ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME made_by_5c91e7b.conversations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: crane_migrations; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.crane_migrations (
    name text NOT NULL,
    applied_at text NOT NULL
);


--
-- Name: deliveries; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.deliveries (
    key text NOT NULL,
    created_at text NOT NULL,
    enterprise_id text DEFAULT ''::text NOT NULL,
    team_id text DEFAULT ''::text NOT NULL
);


--
-- Name: feedback; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.feedback (
    run_id text NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    value text NOT NULL,
    created_at text NOT NULL
);


--
-- Name: idempotency; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.idempotency (
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    key text NOT NULL,
    body_hash text NOT NULL,
    run_id text NOT NULL,
    created_at text NOT NULL
);


--
-- Name: intake; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.intake (
    id text NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    text text NOT NULL,
    conversation text NOT NULL,
    channel text NOT NULL,
    thread_ts text,
    response_url text,
    options text NOT NULL,
    received_at text NOT NULL,
    owner_host text NOT NULL,
    owner_pid integer NOT NULL,
    owner_token text NOT NULL
);


--
-- Name: procrastinate_events; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.procrastinate_events (
    id bigint NOT NULL,
    job_id bigint NOT NULL,
    type made_by_5c91e7b.procrastinate_job_event_type,
    at timestamp with time zone DEFAULT now()
);


--
-- Name: procrastinate_events_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

CREATE SEQUENCE made_by_5c91e7b.procrastinate_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: procrastinate_events_id_seq; Type: SEQUENCE OWNED BY; Schema: made_by_5c91e7b; Owner: -
--

ALTER SEQUENCE made_by_5c91e7b.procrastinate_events_id_seq OWNED BY made_by_5c91e7b.procrastinate_events.id;


--
-- Name: procrastinate_jobs_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

CREATE SEQUENCE made_by_5c91e7b.procrastinate_jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: procrastinate_jobs_id_seq; Type: SEQUENCE OWNED BY; Schema: made_by_5c91e7b; Owner: -
--

ALTER SEQUENCE made_by_5c91e7b.procrastinate_jobs_id_seq OWNED BY made_by_5c91e7b.procrastinate_jobs.id;


--
-- Name: procrastinate_periodic_defers; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.procrastinate_periodic_defers (
    id bigint NOT NULL,
    task_name character varying(128) NOT NULL,
    defer_timestamp bigint,
    job_id bigint,
    periodic_id character varying(128) DEFAULT ''::character varying NOT NULL
);


--
-- Name: procrastinate_periodic_defers_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

CREATE SEQUENCE made_by_5c91e7b.procrastinate_periodic_defers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: procrastinate_periodic_defers_id_seq; Type: SEQUENCE OWNED BY; Schema: made_by_5c91e7b; Owner: -
--

ALTER SEQUENCE made_by_5c91e7b.procrastinate_periodic_defers_id_seq OWNED BY made_by_5c91e7b.procrastinate_periodic_defers.id;


--
-- Name: procrastinate_workers; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.procrastinate_workers (
    id bigint NOT NULL,
    last_heartbeat timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: procrastinate_workers_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE made_by_5c91e7b.procrastinate_workers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME made_by_5c91e7b.procrastinate_workers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: run_events; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.run_events (
    run_id text NOT NULL,
    seq bigint NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    type text NOT NULL,
    data text NOT NULL,
    created_at text NOT NULL
);


--
-- Name: runs; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.runs (
    id text NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    conversation_id bigint,
    text text NOT NULL,
    status text NOT NULL,
    planner text NOT NULL,
    fallback_reason text,
    usage text,
    answer text,
    created_at text NOT NULL,
    finished_at text,
    owner_host text,
    owner_pid integer,
    owner_token text,
    heartbeat_at text,
    answered integer DEFAULT 1 NOT NULL,
    approval integer DEFAULT 0 NOT NULL,
    stop_requested integer DEFAULT 0 NOT NULL,
    shown_in text
);


--
-- Name: slack_bots; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.slack_bots (
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    is_enterprise_install integer NOT NULL,
    data text NOT NULL,
    installed_at text NOT NULL
);


--
-- Name: slack_installations; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.slack_installations (
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    is_enterprise_install integer NOT NULL,
    data text NOT NULL,
    installed_at text NOT NULL
);


--
-- Name: slack_oauth_states; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.slack_oauth_states (
    state text NOT NULL,
    expires_at text NOT NULL
);


--
-- Name: steps; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.steps (
    run_id text NOT NULL,
    idx integer NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    tool text NOT NULL,
    args text NOT NULL,
    destructive integer NOT NULL,
    status text NOT NULL,
    output text,
    result text,
    error text,
    attempts integer DEFAULT 0 NOT NULL,
    started_at text,
    finished_at text,
    private_output integer DEFAULT 0 NOT NULL
);


--
-- Name: todo_counters; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.todo_counters (
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    last_number integer NOT NULL
);


--
-- Name: todos; Type: TABLE; Schema: made_by_5c91e7b; Owner: -
--

CREATE TABLE made_by_5c91e7b.todos (
    id bigint NOT NULL,
    enterprise_id text NOT NULL,
    team_id text NOT NULL,
    user_id text NOT NULL,
    number integer NOT NULL,
    title text NOT NULL,
    done integer DEFAULT 0 NOT NULL,
    created_at text NOT NULL,
    done_at text,
    deleted_at text
);


--
-- Name: todos_id_seq; Type: SEQUENCE; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE made_by_5c91e7b.todos ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME made_by_5c91e7b.todos_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: procrastinate_events id; Type: DEFAULT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_events ALTER COLUMN id SET DEFAULT nextval('made_by_5c91e7b.procrastinate_events_id_seq'::regclass);


--
-- Name: procrastinate_jobs id; Type: DEFAULT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_jobs ALTER COLUMN id SET DEFAULT nextval('made_by_5c91e7b.procrastinate_jobs_id_seq'::regclass);


--
-- Name: procrastinate_periodic_defers id; Type: DEFAULT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_periodic_defers ALTER COLUMN id SET DEFAULT nextval('made_by_5c91e7b.procrastinate_periodic_defers_id_seq'::regclass);


--
-- Data for Name: approvals; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.approvals VALUES ('3e9b858071888832', 1, 'E-old', 'T-old', 'ada', 'approved', 'Delete todo #3?', '#3 [ ] bread', '2025-06-01T09:00:54.000000Z', '2025-06-02T09:00:54.000000Z', '2025-06-01T09:00:56.000000Z', 'ada', NULL);


--
-- Data for Name: conversations; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.conversations VALUES (1, 'E-old', 'T-old', 'thread-1', '2025-06-01T09:00:00.000000Z');
INSERT INTO made_by_5c91e7b.conversations VALUES (5, 'E-old', 'T-old', 'dm-bob', '2025-06-01T09:01:18.000000Z');


--
-- Data for Name: crane_migrations; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('001_initial', '2026-12-07T22:21:10.866866Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('003_todo_counters', '2026-12-07T22:21:10.938321Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('004_intake', '2026-12-07T22:21:10.950411Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('005_answered', '2026-12-07T22:21:10.961924Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('010_approvals_feedback', '2026-12-07T22:21:10.972582Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('020_installations', '2026-12-07T22:21:10.995216Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('030_event_notify', '2026-12-07T22:21:11.015356Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('040_shown_in', '2026-12-07T22:21:11.019775Z');
INSERT INTO made_by_5c91e7b.crane_migrations VALUES ('procrastinate_3.4.0', '2026-12-07T22:21:11.022538Z');


--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.deliveries VALUES ('msg:T-old:D1:1700000001.000200', '2025-06-01T09:01:17.000000Z', 'E-old', 'T-old');
INSERT INTO made_by_5c91e7b.deliveries VALUES ('cmd:T-old:trigger-1', '2025-06-01T09:01:26.000000Z', 'E-old', 'T-old');


--
-- Data for Name: feedback; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.feedback VALUES ('3e9b858071888832', 'E-old', 'T-old', 'ada', 'up', '2025-06-01T09:01:05.000000Z');


--
-- Data for Name: idempotency; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.idempotency VALUES ('E-old', 'T-old', 'bob', 'key-1', 'body-hash-1', '7697e4d8891419b2', '2025-06-01T09:01:08.000000Z');


--
-- Data for Name: intake; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--



--
-- Data for Name: procrastinate_events; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--



--
-- Data for Name: procrastinate_jobs; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--



--
-- Data for Name: procrastinate_periodic_defers; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--



--
-- Data for Name: procrastinate_workers; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--



--
-- Data for Name: run_events; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.run_events VALUES ('50be4c9265d3e1a2', 1, 'E-old', 'T-old', 'ada', 'run.started', '{"run":{"id":"50be4c9265d3e1a2","status":"running","text":"add a todo to buy milk","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"add_todo","args":{"title":"buy milk"},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:00.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:04.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('50be4c9265d3e1a2', 2, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"add_todo","args":{"title":"buy milk"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:04.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('50be4c9265d3e1a2', 3, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"buy milk"},"status":"completed","output":"Added todo #1: buy milk","error":null,"attempts":1,"private":false,"todo_number":1,"todo_numbers":null}}', '2025-06-01T09:00:07.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('50be4c9265d3e1a2', 4, 'E-old', 'T-old', 'ada', 'run.finished', '{"status":"completed","answer":"Added todo #1: buy milk","steps":[{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"buy milk"},"status":"completed","output":"Added todo #1: buy milk","error":null,"attempts":1,"private":false,"todo_number":1,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:00:07.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 1, 'E-old', 'T-old', 'ada', 'run.started', '{"run":{"id":"65f10468e38d1675","status":"running","text":"add todos: eggs; bread; call the plumber","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"add_todo","args":{"title":"eggs"},"status":"pending","output":null,"error":null,"attempts":0},{"index":2,"tool":"add_todo","args":{"title":"bread"},"status":"pending","output":null,"error":null,"attempts":0},{"index":3,"tool":"add_todo","args":{"title":"call the plumber"},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:09.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:13.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 2, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"add_todo","args":{"title":"eggs"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:13.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 3, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"eggs"},"status":"completed","output":"Added todo #2: eggs","error":null,"attempts":1,"private":false,"todo_number":2,"todo_numbers":null}}', '2025-06-01T09:00:16.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 4, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":2,"tool":"add_todo","args":{"title":"bread"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:16.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 5, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":2,"tool":"add_todo","args":{"title":"bread"},"status":"completed","output":"Added todo #3: bread","error":null,"attempts":1,"private":false,"todo_number":3,"todo_numbers":null}}', '2025-06-01T09:00:19.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 6, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":3,"tool":"add_todo","args":{"title":"call the plumber"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:19.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 7, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":3,"tool":"add_todo","args":{"title":"call the plumber"},"status":"completed","output":"Added todo #4: call the plumber","error":null,"attempts":1,"private":false,"todo_number":4,"todo_numbers":null}}', '2025-06-01T09:00:22.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('65f10468e38d1675', 8, 'E-old', 'T-old', 'ada', 'run.finished', '{"status":"completed","answer":"Added todo #2: eggs\nAdded todo #3: bread\nAdded todo #4: call the plumber","steps":[{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"eggs"},"status":"completed","output":"Added todo #2: eggs","error":null,"attempts":1,"private":false,"todo_number":2,"todo_numbers":null},{"duration_ms":3000.0,"index":2,"tool":"add_todo","args":{"title":"bread"},"status":"completed","output":"Added todo #3: bread","error":null,"attempts":1,"private":false,"todo_number":3,"todo_numbers":null},{"duration_ms":3000.0,"index":3,"tool":"add_todo","args":{"title":"call the plumber"},"status":"completed","output":"Added todo #4: call the plumber","error":null,"attempts":1,"private":false,"todo_number":4,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:00:22.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('c57e5058d333afa8', 1, 'E-old', 'T-old', 'ada', 'run.started', '{"run":{"id":"c57e5058d333afa8","status":"running","text":"complete todo 2","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"complete_todo","args":{"number":2},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:24.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:28.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('c57e5058d333afa8', 2, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"complete_todo","args":{"number":2},"status":"running","output":null,"error":null,"attempts":0,"private":true,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:28.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('c57e5058d333afa8', 3, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":1,"tool":"complete_todo","args":{"number":2},"status":"completed","output":"Completed todo #2: eggs","error":null,"attempts":1,"private":true,"todo_number":2,"todo_numbers":null}}', '2025-06-01T09:00:31.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('c57e5058d333afa8', 4, 'E-old', 'T-old', 'ada', 'run.finished', '{"status":"completed","answer":"Completed todo #2: eggs","steps":[{"duration_ms":3000.0,"index":1,"tool":"complete_todo","args":{"number":2},"status":"completed","output":"Completed todo #2: eggs","error":null,"attempts":1,"private":true,"todo_number":2,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:00:31.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('6c721b518372cf0c', 1, 'E-old', 'T-old', 'bob', 'run.started', '{"run":{"id":"6c721b518372cf0c","status":"running","text":"calculate (2+3)*4","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"calculator","args":{"expression":"(2+3)*4"},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:33.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:37.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('6c721b518372cf0c', 2, 'E-old', 'T-old', 'bob', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"calculator","args":{"expression":"(2+3)*4"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:37.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('6c721b518372cf0c', 3, 'E-old', 'T-old', 'bob', 'step.finished', '{"step":{"duration_ms":2000.0,"index":1,"tool":"calculator","args":{"expression":"(2+3)*4"},"status":"completed","output":"(2+3)*4 = 20","error":null,"attempts":1,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:39.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('6c721b518372cf0c', 4, 'E-old', 'T-old', 'bob', 'run.finished', '{"status":"completed","answer":"(2+3)*4 = 20","steps":[{"duration_ms":2000.0,"index":1,"tool":"calculator","args":{"expression":"(2+3)*4"},"status":"completed","output":"(2+3)*4 = 20","error":null,"attempts":1,"private":false,"todo_number":null,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:00:39.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('b45bbfb418b98043', 3, 'E-old', 'T-old', 'bob', 'step.finished', '{"step":{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"call mom"},"status":"completed","output":"Added todo #1: call mom","error":null,"attempts":1,"private":false,"todo_number":1,"todo_numbers":null}}', '2025-06-01T09:00:48.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('b45bbfb418b98043', 4, 'E-old', 'T-old', 'bob', 'run.finished', '{"status":"completed","answer":"Added todo #1: call mom","steps":[{"duration_ms":3000.0,"index":1,"tool":"add_todo","args":{"title":"call mom"},"status":"completed","output":"Added todo #1: call mom","error":null,"attempts":1,"private":false,"todo_number":1,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:00:48.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('3e9b858071888832', 3, 'E-old', 'T-old', 'ada', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"delete_todo","args":{"number":3},"status":"running","output":null,"error":null,"attempts":0,"private":true,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:01:00.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('7697e4d8891419b2', 1, 'E-old', 'T-old', 'bob', 'run.started', '{"run":{"id":"7697e4d8891419b2","status":"running","text":"what is 15% of 80","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"calculator","args":{"expression":"(15/100)*80"},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:01:06.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:01:12.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('7697e4d8891419b2', 2, 'E-old', 'T-old', 'bob', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"calculator","args":{"expression":"(15/100)*80"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:01:12.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('2d2c05ab3a2cab2e', 1, 'E-old', 'T-old', 'bob', 'run.started', '{"run":{"id":"2d2c05ab3a2cab2e","status":"running","text":"list my todos","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"list_todos","args":{"include_done":false},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:01:18.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:01:22.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('2d2c05ab3a2cab2e', 2, 'E-old', 'T-old', 'bob', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"list_todos","args":{"include_done":false},"status":"running","output":null,"error":null,"attempts":0,"private":true,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:01:22.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('2d2c05ab3a2cab2e', 3, 'E-old', 'T-old', 'bob', 'step.finished', '{"step":{"duration_ms":2000.0,"index":1,"tool":"list_todos","args":{"include_done":false},"status":"completed","output":"Your todos:\n#1 [ ] call mom","error":null,"attempts":1,"private":true,"todo_number":null,"todo_numbers":[1]}}', '2025-06-01T09:01:24.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('2d2c05ab3a2cab2e', 4, 'E-old', 'T-old', 'bob', 'run.finished', '{"status":"completed","answer":"Your todos:\n#1 [ ] call mom","steps":[{"duration_ms":2000.0,"index":1,"tool":"list_todos","args":{"include_done":false},"status":"completed","output":"Your todos:\n#1 [ ] call mom","error":null,"attempts":1,"private":true,"todo_number":null,"todo_numbers":[1]}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:01:24.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('b45bbfb418b98043', 1, 'E-old', 'T-old', 'bob', 'run.started', '{"run":{"id":"b45bbfb418b98043","status":"running","text":"remind me to call mom","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"add_todo","args":{"title":"call mom"},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:41.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:45.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('b45bbfb418b98043', 2, 'E-old', 'T-old', 'bob', 'step.started', '{"step":{"duration_ms":null,"index":1,"tool":"add_todo","args":{"title":"call mom"},"status":"running","output":null,"error":null,"attempts":0,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:00:45.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('3e9b858071888832', 1, 'E-old', 'T-old', 'ada', 'run.started', '{"run":{"id":"3e9b858071888832","status":"running","text":"delete todo 3","planner":"pattern","fallback_reason":null,"usage":null,"answer":null,"steps":[{"index":1,"tool":"delete_todo","args":{"number":3},"status":"pending","output":null,"error":null,"attempts":0}],"created_at":"2025-06-01T09:00:50.000000Z","finished_at":null,"feedback":{"up":0,"down":0}}}', '2025-06-01T09:00:54.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('3e9b858071888832', 2, 'E-old', 'T-old', 'ada', 'run.awaiting_approval', '{"step":{"duration_ms":null,"index":1,"tool":"delete_todo","args":{"number":3},"status":"pending","output":null,"error":null,"attempts":0,"private":true,"todo_number":null,"todo_numbers":null},"question":"Delete todo #3?","detail":"#3 [ ] bread","expires_at":"2025-06-02T09:00:54.000000Z"}', '2025-06-01T09:00:54.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('3e9b858071888832', 4, 'E-old', 'T-old', 'ada', 'step.finished', '{"step":{"duration_ms":3000.0,"index":1,"tool":"delete_todo","args":{"number":3},"status":"completed","output":"Deleted todo #3: bread","error":null,"attempts":1,"private":true,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:01:03.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('3e9b858071888832', 5, 'E-old', 'T-old', 'ada', 'run.finished', '{"status":"completed","answer":"Deleted todo #3: bread","steps":[{"duration_ms":3000.0,"index":1,"tool":"delete_todo","args":{"number":3},"status":"completed","output":"Deleted todo #3: bread","error":null,"attempts":1,"private":true,"todo_number":null,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:01:03.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('7697e4d8891419b2', 3, 'E-old', 'T-old', 'bob', 'step.finished', '{"step":{"duration_ms":2000.0,"index":1,"tool":"calculator","args":{"expression":"(15/100)*80"},"status":"completed","output":"(15/100)*80 = 12","error":null,"attempts":1,"private":false,"todo_number":null,"todo_numbers":null}}', '2025-06-01T09:01:14.000000Z');
INSERT INTO made_by_5c91e7b.run_events VALUES ('7697e4d8891419b2', 4, 'E-old', 'T-old', 'bob', 'run.finished', '{"status":"completed","answer":"(15/100)*80 = 12","steps":[{"duration_ms":2000.0,"index":1,"tool":"calculator","args":{"expression":"(15/100)*80"},"status":"completed","output":"(15/100)*80 = 12","error":null,"attempts":1,"private":false,"todo_number":null,"todo_numbers":null}],"usage":null,"planner":"pattern","fallback_reason":null}', '2025-06-01T09:01:14.000000Z');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.runs VALUES ('50be4c9265d3e1a2', 'E-old', 'T-old', 'ada', 1, 'add a todo to buy milk', 'completed', 'pattern', NULL, NULL, 'Added todo #1: buy milk', '2025-06-01T09:00:00.000000Z', '2025-06-01T09:00:07.000000Z', 'old', 1, 'tok:267bb85f', '2025-06-01T09:00:07.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('65f10468e38d1675', 'E-old', 'T-old', 'ada', 1, 'add todos: eggs; bread; call the plumber', 'completed', 'pattern', NULL, NULL, 'Added todo #2: eggs
Added todo #3: bread
Added todo #4: call the plumber', '2025-06-01T09:00:09.000000Z', '2025-06-01T09:00:22.000000Z', 'old', 1, 'tok:1bbd3a19', '2025-06-01T09:00:22.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('3e9b858071888832', 'E-old', 'T-old', 'ada', 1, 'delete todo 3', 'completed', 'pattern', NULL, NULL, 'Deleted todo #3: bread', '2025-06-01T09:00:50.000000Z', '2025-06-01T09:01:03.000000Z', 'old', 1, 'tok:7f941264', '2025-06-01T09:01:03.000000Z', 1, 1, 0, '{"channel":"C1","ts":"1700000000.000100"}');
INSERT INTO made_by_5c91e7b.runs VALUES ('c57e5058d333afa8', 'E-old', 'T-old', 'ada', 1, 'complete todo 2', 'completed', 'pattern', NULL, NULL, 'Completed todo #2: eggs', '2025-06-01T09:00:24.000000Z', '2025-06-01T09:00:31.000000Z', 'old', 1, 'tok:74113bc0', '2025-06-01T09:00:31.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('6c721b518372cf0c', 'E-old', 'T-old', 'bob', NULL, 'calculate (2+3)*4', 'completed', 'pattern', NULL, NULL, '(2+3)*4 = 20', '2025-06-01T09:00:33.000000Z', '2025-06-01T09:00:39.000000Z', 'old', 1, 'tok:e1f496f8', '2025-06-01T09:00:39.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('7697e4d8891419b2', 'E-old', 'T-old', 'bob', NULL, 'what is 15% of 80', 'completed', 'pattern', NULL, NULL, '(15/100)*80 = 12', '2025-06-01T09:01:06.000000Z', '2025-06-01T09:01:14.000000Z', 'old', 1, 'tok:20d6e08d', '2025-06-01T09:01:14.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('b45bbfb418b98043', 'E-old', 'T-old', 'bob', NULL, 'remind me to call mom', 'completed', 'pattern', NULL, NULL, 'Added todo #1: call mom', '2025-06-01T09:00:41.000000Z', '2025-06-01T09:00:48.000000Z', 'old', 1, 'tok:c3bd735d', '2025-06-01T09:00:48.000000Z', 1, 0, 0, NULL);
INSERT INTO made_by_5c91e7b.runs VALUES ('2d2c05ab3a2cab2e', 'E-old', 'T-old', 'bob', 5, 'list my todos', 'completed', 'pattern', NULL, NULL, 'Your todos:
#1 [ ] call mom', '2025-06-01T09:01:18.000000Z', '2025-06-01T09:01:24.000000Z', 'old', 1, 'tok:f6dad8d2', '2025-06-01T09:01:24.000000Z', 1, 0, 0, NULL);


--
-- Data for Name: slack_bots; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.slack_bots VALUES ('E-old', 'T-old', 0, '{"bot_token": "xoxb-old"}', '2025-06-01T09:01:28.000000Z');


--
-- Data for Name: slack_installations; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.slack_installations VALUES ('E-old', 'T-old', 'ada', 0, '{"bot_token": "xoxb-old"}', '2025-06-01T09:01:27.000000Z');


--
-- Data for Name: slack_oauth_states; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.slack_oauth_states VALUES ('state-old', '2125-05-08T09:01:29.000000Z');


--
-- Data for Name: steps; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.steps VALUES ('50be4c9265d3e1a2', 1, 'E-old', 'T-old', 'ada', 'add_todo', '{"title":"buy milk"}', 0, 'completed', 'Added todo #1: buy milk', '{"value":1,"todo_numbers":null,"todo_number":1}', NULL, 1, '2025-06-01T09:00:04.000000Z', '2025-06-01T09:00:07.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('65f10468e38d1675', 1, 'E-old', 'T-old', 'ada', 'add_todo', '{"title":"eggs"}', 0, 'completed', 'Added todo #2: eggs', '{"value":2,"todo_numbers":null,"todo_number":2}', NULL, 1, '2025-06-01T09:00:13.000000Z', '2025-06-01T09:00:16.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('65f10468e38d1675', 2, 'E-old', 'T-old', 'ada', 'add_todo', '{"title":"bread"}', 0, 'completed', 'Added todo #3: bread', '{"value":3,"todo_numbers":null,"todo_number":3}', NULL, 1, '2025-06-01T09:00:16.000000Z', '2025-06-01T09:00:19.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('65f10468e38d1675', 3, 'E-old', 'T-old', 'ada', 'add_todo', '{"title":"call the plumber"}', 0, 'completed', 'Added todo #4: call the plumber', '{"value":4,"todo_numbers":null,"todo_number":4}', NULL, 1, '2025-06-01T09:00:19.000000Z', '2025-06-01T09:00:22.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('c57e5058d333afa8', 1, 'E-old', 'T-old', 'ada', 'complete_todo', '{"number":2}', 0, 'completed', 'Completed todo #2: eggs', '{"value":2,"todo_numbers":null,"todo_number":2}', NULL, 1, '2025-06-01T09:00:28.000000Z', '2025-06-01T09:00:31.000000Z', 1);
INSERT INTO made_by_5c91e7b.steps VALUES ('6c721b518372cf0c', 1, 'E-old', 'T-old', 'bob', 'calculator', '{"expression":"(2+3)*4"}', 0, 'completed', '(2+3)*4 = 20', '{"value":20,"todo_numbers":null,"todo_number":null}', NULL, 1, '2025-06-01T09:00:37.000000Z', '2025-06-01T09:00:39.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('b45bbfb418b98043', 1, 'E-old', 'T-old', 'bob', 'add_todo', '{"title":"call mom"}', 0, 'completed', 'Added todo #1: call mom', '{"value":1,"todo_numbers":null,"todo_number":1}', NULL, 1, '2025-06-01T09:00:45.000000Z', '2025-06-01T09:00:48.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('3e9b858071888832', 1, 'E-old', 'T-old', 'ada', 'delete_todo', '{"number":3}', 1, 'completed', 'Deleted todo #3: bread', '{"value":3,"todo_numbers":null,"todo_number":null}', NULL, 1, '2025-06-01T09:01:00.000000Z', '2025-06-01T09:01:03.000000Z', 1);
INSERT INTO made_by_5c91e7b.steps VALUES ('7697e4d8891419b2', 1, 'E-old', 'T-old', 'bob', 'calculator', '{"expression":"(15/100)*80"}', 0, 'completed', '(15/100)*80 = 12', '{"value":12,"todo_numbers":null,"todo_number":null}', NULL, 1, '2025-06-01T09:01:12.000000Z', '2025-06-01T09:01:14.000000Z', 0);
INSERT INTO made_by_5c91e7b.steps VALUES ('2d2c05ab3a2cab2e', 1, 'E-old', 'T-old', 'bob', 'list_todos', '{"include_done":false}', 0, 'completed', 'Your todos:
#1 [ ] call mom', '{"value":1,"todo_numbers":[1],"todo_number":null}', NULL, 1, '2025-06-01T09:01:22.000000Z', '2025-06-01T09:01:24.000000Z', 1);


--
-- Data for Name: todo_counters; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.todo_counters VALUES ('E-old', 'T-old', 'ada', 4);
INSERT INTO made_by_5c91e7b.todo_counters VALUES ('E-old', 'T-old', 'bob', 1);


--
-- Data for Name: todos; Type: TABLE DATA; Schema: made_by_5c91e7b; Owner: -
--

INSERT INTO made_by_5c91e7b.todos VALUES (1, 'E-old', 'T-old', 'ada', 1, 'buy milk', 0, '2025-06-01T09:00:06.000000Z', NULL, NULL);
INSERT INTO made_by_5c91e7b.todos VALUES (4, 'E-old', 'T-old', 'ada', 4, 'call the plumber', 0, '2025-06-01T09:00:21.000000Z', NULL, NULL);
INSERT INTO made_by_5c91e7b.todos VALUES (2, 'E-old', 'T-old', 'ada', 2, 'eggs', 1, '2025-06-01T09:00:15.000000Z', '2025-06-01T09:00:30.000000Z', NULL);
INSERT INTO made_by_5c91e7b.todos VALUES (5, 'E-old', 'T-old', 'bob', 1, 'call mom', 0, '2025-06-01T09:00:47.000000Z', NULL, NULL);
INSERT INTO made_by_5c91e7b.todos VALUES (3, 'E-old', 'T-old', 'ada', 3, 'bread', 0, '2025-06-01T09:00:18.000000Z', NULL, '2025-06-01T09:01:02.000000Z');


--
-- Name: conversations_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.conversations_id_seq', 5, true);


--
-- Name: procrastinate_events_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.procrastinate_events_id_seq', 1, false);


--
-- Name: procrastinate_jobs_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.procrastinate_jobs_id_seq', 1, false);


--
-- Name: procrastinate_periodic_defers_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.procrastinate_periodic_defers_id_seq', 1, false);


--
-- Name: procrastinate_workers_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.procrastinate_workers_id_seq', 1, false);


--
-- Name: todos_id_seq; Type: SEQUENCE SET; Schema: made_by_5c91e7b; Owner: -
--

SELECT pg_catalog.setval('made_by_5c91e7b.todos_id_seq', 5, true);


--
-- Name: approvals approvals_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.approvals
    ADD CONSTRAINT approvals_pkey PRIMARY KEY (run_id, idx);


--
-- Name: conversations conversations_enterprise_id_team_id_key_key; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.conversations
    ADD CONSTRAINT conversations_enterprise_id_team_id_key_key UNIQUE (enterprise_id, team_id, key);


--
-- Name: conversations conversations_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.conversations
    ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);


--
-- Name: crane_migrations crane_migrations_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.crane_migrations
    ADD CONSTRAINT crane_migrations_pkey PRIMARY KEY (name);


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (key);


--
-- Name: feedback feedback_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.feedback
    ADD CONSTRAINT feedback_pkey PRIMARY KEY (run_id, enterprise_id, team_id, user_id);


--
-- Name: idempotency idempotency_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.idempotency
    ADD CONSTRAINT idempotency_pkey PRIMARY KEY (enterprise_id, team_id, user_id, key);


--
-- Name: intake intake_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.intake
    ADD CONSTRAINT intake_pkey PRIMARY KEY (id);


--
-- Name: procrastinate_events procrastinate_events_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_events
    ADD CONSTRAINT procrastinate_events_pkey PRIMARY KEY (id);


--
-- Name: procrastinate_jobs procrastinate_jobs_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_jobs
    ADD CONSTRAINT procrastinate_jobs_pkey PRIMARY KEY (id);


--
-- Name: procrastinate_periodic_defers procrastinate_periodic_defers_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_pkey PRIMARY KEY (id);


--
-- Name: procrastinate_periodic_defers procrastinate_periodic_defers_unique; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_unique UNIQUE (task_name, periodic_id, defer_timestamp);


--
-- Name: procrastinate_workers procrastinate_workers_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_workers
    ADD CONSTRAINT procrastinate_workers_pkey PRIMARY KEY (id);


--
-- Name: run_events run_events_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.run_events
    ADD CONSTRAINT run_events_pkey PRIMARY KEY (run_id, seq);


--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);


--
-- Name: slack_bots slack_bots_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.slack_bots
    ADD CONSTRAINT slack_bots_pkey PRIMARY KEY (enterprise_id, team_id);


--
-- Name: slack_installations slack_installations_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.slack_installations
    ADD CONSTRAINT slack_installations_pkey PRIMARY KEY (enterprise_id, team_id, user_id);


--
-- Name: slack_oauth_states slack_oauth_states_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.slack_oauth_states
    ADD CONSTRAINT slack_oauth_states_pkey PRIMARY KEY (state);


--
-- Name: steps steps_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.steps
    ADD CONSTRAINT steps_pkey PRIMARY KEY (run_id, idx);


--
-- Name: todo_counters todo_counters_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.todo_counters
    ADD CONSTRAINT todo_counters_pkey PRIMARY KEY (enterprise_id, team_id, user_id);


--
-- Name: todos todos_enterprise_id_team_id_user_id_number_key; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.todos
    ADD CONSTRAINT todos_enterprise_id_team_id_user_id_number_key UNIQUE (enterprise_id, team_id, user_id, number);


--
-- Name: todos todos_pkey; Type: CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.todos
    ADD CONSTRAINT todos_pkey PRIMARY KEY (id);


--
-- Name: approvals_waiting; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX approvals_waiting ON made_by_5c91e7b.approvals USING btree (status, expires_at);


--
-- Name: idx_procrastinate_jobs_worker_not_null; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX idx_procrastinate_jobs_worker_not_null ON made_by_5c91e7b.procrastinate_jobs USING btree (worker_id) WHERE ((worker_id IS NOT NULL) AND (status = 'doing'::made_by_5c91e7b.procrastinate_job_status));


--
-- Name: idx_procrastinate_workers_last_heartbeat; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX idx_procrastinate_workers_last_heartbeat ON made_by_5c91e7b.procrastinate_workers USING btree (last_heartbeat);


--
-- Name: procrastinate_events_job_id_fkey_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX procrastinate_events_job_id_fkey_v1 ON made_by_5c91e7b.procrastinate_events USING btree (job_id);


--
-- Name: procrastinate_jobs_id_lock_idx_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX procrastinate_jobs_id_lock_idx_v1 ON made_by_5c91e7b.procrastinate_jobs USING btree (id, lock) WHERE (status = ANY (ARRAY['todo'::made_by_5c91e7b.procrastinate_job_status, 'doing'::made_by_5c91e7b.procrastinate_job_status]));


--
-- Name: procrastinate_jobs_lock_idx_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE UNIQUE INDEX procrastinate_jobs_lock_idx_v1 ON made_by_5c91e7b.procrastinate_jobs USING btree (lock) WHERE (status = 'doing'::made_by_5c91e7b.procrastinate_job_status);


--
-- Name: procrastinate_jobs_priority_idx_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX procrastinate_jobs_priority_idx_v1 ON made_by_5c91e7b.procrastinate_jobs USING btree (priority DESC, id) WHERE (status = 'todo'::made_by_5c91e7b.procrastinate_job_status);


--
-- Name: procrastinate_jobs_queue_name_idx_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX procrastinate_jobs_queue_name_idx_v1 ON made_by_5c91e7b.procrastinate_jobs USING btree (queue_name);


--
-- Name: procrastinate_jobs_queueing_lock_idx_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE UNIQUE INDEX procrastinate_jobs_queueing_lock_idx_v1 ON made_by_5c91e7b.procrastinate_jobs USING btree (queueing_lock) WHERE (status = 'todo'::made_by_5c91e7b.procrastinate_job_status);


--
-- Name: procrastinate_periodic_defers_job_id_fkey_v1; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX procrastinate_periodic_defers_job_id_fkey_v1 ON made_by_5c91e7b.procrastinate_periodic_defers USING btree (job_id);


--
-- Name: runs_by_caller; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX runs_by_caller ON made_by_5c91e7b.runs USING btree (enterprise_id, team_id, user_id, created_at);


--
-- Name: runs_by_conversation; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX runs_by_conversation ON made_by_5c91e7b.runs USING btree (conversation_id, user_id, created_at);


--
-- Name: runs_unfinished; Type: INDEX; Schema: made_by_5c91e7b; Owner: -
--

CREATE INDEX runs_unfinished ON made_by_5c91e7b.runs USING btree (status) WHERE (status = ANY (ARRAY['pending'::text, 'running'::text]));


--
-- Name: procrastinate_jobs procrastinate_jobs_notify_queue_job_aborted_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_jobs_notify_queue_job_aborted_v1 AFTER UPDATE OF abort_requested ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW WHEN (((old.abort_requested = false) AND (new.abort_requested = true) AND (new.status = 'doing'::made_by_5c91e7b.procrastinate_job_status))) EXECUTE FUNCTION made_by_5c91e7b.procrastinate_notify_queue_abort_job_v1();


--
-- Name: procrastinate_jobs procrastinate_jobs_notify_queue_job_inserted_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1 AFTER INSERT ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW WHEN ((new.status = 'todo'::made_by_5c91e7b.procrastinate_job_status)) EXECUTE FUNCTION made_by_5c91e7b.procrastinate_notify_queue_job_inserted_v1();


--
-- Name: procrastinate_jobs procrastinate_trigger_abort_requested_events_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1 AFTER UPDATE OF abort_requested ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW WHEN ((new.abort_requested = true)) EXECUTE FUNCTION made_by_5c91e7b.procrastinate_trigger_abort_requested_events_procedure_v1();


--
-- Name: procrastinate_jobs procrastinate_trigger_delete_jobs_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_trigger_delete_jobs_v1 BEFORE DELETE ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW EXECUTE FUNCTION made_by_5c91e7b.procrastinate_unlink_periodic_defers_v1();


--
-- Name: procrastinate_jobs procrastinate_trigger_scheduled_events_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_trigger_scheduled_events_v1 AFTER INSERT OR UPDATE ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW WHEN (((new.scheduled_at IS NOT NULL) AND (new.status = 'todo'::made_by_5c91e7b.procrastinate_job_status))) EXECUTE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_scheduled_events_v1();


--
-- Name: procrastinate_jobs procrastinate_trigger_status_events_insert_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_trigger_status_events_insert_v1 AFTER INSERT ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW WHEN ((new.status = 'todo'::made_by_5c91e7b.procrastinate_job_status)) EXECUTE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_status_events_insert_v1();


--
-- Name: procrastinate_jobs procrastinate_trigger_status_events_update_v1; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER procrastinate_trigger_status_events_update_v1 AFTER UPDATE OF status ON made_by_5c91e7b.procrastinate_jobs FOR EACH ROW EXECUTE FUNCTION made_by_5c91e7b.procrastinate_trigger_function_status_events_update_v1();


--
-- Name: run_events run_events_notify; Type: TRIGGER; Schema: made_by_5c91e7b; Owner: -
--

CREATE TRIGGER run_events_notify AFTER INSERT ON made_by_5c91e7b.run_events REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION made_by_5c91e7b.crane_notify_events();


--
-- Name: approvals approvals_run_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.approvals
    ADD CONSTRAINT approvals_run_id_fkey FOREIGN KEY (run_id) REFERENCES made_by_5c91e7b.runs(id);


--
-- Name: feedback feedback_run_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.feedback
    ADD CONSTRAINT feedback_run_id_fkey FOREIGN KEY (run_id) REFERENCES made_by_5c91e7b.runs(id);


--
-- Name: idempotency idempotency_run_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.idempotency
    ADD CONSTRAINT idempotency_run_id_fkey FOREIGN KEY (run_id) REFERENCES made_by_5c91e7b.runs(id);


--
-- Name: procrastinate_events procrastinate_events_job_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_events
    ADD CONSTRAINT procrastinate_events_job_id_fkey FOREIGN KEY (job_id) REFERENCES made_by_5c91e7b.procrastinate_jobs(id) ON DELETE CASCADE;


--
-- Name: procrastinate_jobs procrastinate_jobs_worker_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_jobs
    ADD CONSTRAINT procrastinate_jobs_worker_id_fkey FOREIGN KEY (worker_id) REFERENCES made_by_5c91e7b.procrastinate_workers(id) ON DELETE SET NULL;


--
-- Name: procrastinate_periodic_defers procrastinate_periodic_defers_job_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_job_id_fkey FOREIGN KEY (job_id) REFERENCES made_by_5c91e7b.procrastinate_jobs(id);


--
-- Name: run_events run_events_run_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.run_events
    ADD CONSTRAINT run_events_run_id_fkey FOREIGN KEY (run_id) REFERENCES made_by_5c91e7b.runs(id);


--
-- Name: runs runs_conversation_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.runs
    ADD CONSTRAINT runs_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES made_by_5c91e7b.conversations(id);


--
-- Name: steps steps_run_id_fkey; Type: FK CONSTRAINT; Schema: made_by_5c91e7b; Owner: -
--

ALTER TABLE ONLY made_by_5c91e7b.steps
    ADD CONSTRAINT steps_run_id_fkey FOREIGN KEY (run_id) REFERENCES made_by_5c91e7b.runs(id);


--
-- PostgreSQL database dump complete
--

\unrestrict PgXgIV6xTcKJlMHqqVoWJeueCEjurxVg3Jga1ebUkivjaEqniib8Mpw1KgCnOLv


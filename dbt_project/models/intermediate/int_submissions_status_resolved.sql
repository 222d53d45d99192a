-- The current status of every submission: the to_status of its latest 'status' audit event
-- (by occurred_at, then event_id), else its intake status; and whether a newer version of the
-- same country x data set x quarter, not rejected, supersedes it.

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

audit_events as (

    select * from {{ ref('stg_raw__audit_events') }}

),

status_events_ranked as (

    select
        submission_id,
        to_status,
        occurred_at,
        row_number() over (
            partition by submission_id
            order by occurred_at desc, event_id desc
        ) as recency_rank
    from audit_events
    where action = 'status'
        and submission_id is not null
        and to_status is not null

),

latest_status_events as (

    select
        submission_id,
        to_status,
        occurred_at
    from status_events_ranked
    where recency_rank = 1

),

resolved as (

    select
        submissions.submission_id,
        submissions.file_sha256,
        submissions.dataset,
        submissions.country,
        submissions.period,
        submissions.version,
        submissions.intake_status,
        coalesce(latest_status_events.to_status, submissions.intake_status) as current_status,
        coalesce(latest_status_events.occurred_at, submissions.received_at) as status_changed_at,
        submissions.received_at
    from submissions
    left join latest_status_events
        on latest_status_events.submission_id = submissions.submission_id

),

superseded as (

    select distinct
        older.submission_id
    from resolved as older
    inner join resolved as newer
        on newer.country = older.country
        and newer.dataset = older.dataset
        and newer.period = older.period
        and newer.version > older.version
    where newer.current_status <> 'rejected'

),

final as (

    select
        resolved.submission_id,
        resolved.file_sha256,
        resolved.dataset,
        resolved.country,
        resolved.period,
        resolved.version,
        resolved.intake_status,
        resolved.current_status,
        resolved.status_changed_at,
        resolved.received_at,
        superseded.submission_id is not null as is_superseded
    from resolved
    left join superseded
        on superseded.submission_id = resolved.submission_id

)

select * from final

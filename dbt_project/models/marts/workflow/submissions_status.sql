-- Every submission (country x data set x quarter x version) with its current status, who set it
-- and why, its findings counts, its latest explanation and whether it is superseded: what the
-- "My submissions" page and the secretariat's review queue read (issue 7).

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

statuses as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

audit_events as (

    select * from {{ ref('stg_raw__audit_events') }}

),

explanations as (

    select * from {{ source('workflow', 'explanations') }}

),

latest_status_events as (

    select
        submission_id,
        actor as status_changed_by,
        reason as status_reason,
        row_number() over (
            partition by submission_id
            order by occurred_at desc, event_id desc
        ) as recency_rank
    from audit_events
    where action = 'status'
        and submission_id is not null

),

latest_explanations as (

    select
        submission_id,
        text as explanation,
        written_by as explained_by,
        written_at as explained_at,
        row_number() over (
            partition by submission_id
            order by written_at desc, explanation_id desc
        ) as recency_rank
    from explanations

),

final as (

    select
        submissions.submission_id,
        submissions.file_sha256,
        files.file_name,
        files.channel,
        files.submitted_by,
        submissions.dataset,
        submissions.country,
        submissions.period,
        submissions.version,
        submissions.intake_status,
        statuses.current_status,
        statuses.status_changed_at,
        latest_status_events.status_changed_by,
        latest_status_events.status_reason,
        statuses.is_superseded,
        submissions.received_at,
        submissions.received_on,
        submissions.due_on,
        submissions.is_late,
        submissions.n_rows,
        submissions.n_errors,
        submissions.n_warnings,
        latest_explanations.explanation,
        latest_explanations.explained_by,
        latest_explanations.explained_at,
        statuses.current_status = 'validated'
            and not statuses.is_superseded
            and (submissions.n_warnings = 0 or latest_explanations.explanation is not null)
            as is_ready_for_review
    from submissions
    inner join statuses
        on statuses.submission_id = submissions.submission_id
    left join files
        on files.file_sha256 = submissions.file_sha256
    left join latest_status_events
        on latest_status_events.submission_id = submissions.submission_id
        and latest_status_events.recency_rank = 1
    left join latest_explanations
        on latest_explanations.submission_id = submissions.submission_id
        and latest_explanations.recency_rank = 1

)

select * from final

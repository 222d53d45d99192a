-- Every audit event (receipt, duplicate, status change, supersession, explanation, lock
-- exception) with the unit it concerns and the file it came with: the audit page (issue 7).

with

audit_events as (

    select * from {{ ref('stg_raw__audit_events') }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

final as (

    select
        audit_events.event_id,
        audit_events.occurred_at,
        audit_events.actor,
        audit_events.action,
        audit_events.submission_id,
        audit_events.file_sha256,
        files.file_name,
        coalesce(submissions.country, json_extract_string(audit_events.details, '$.country'))
            as country,
        coalesce(submissions.dataset, json_extract_string(audit_events.details, '$.dataset'))
            as dataset,
        coalesce(submissions.period, json_extract_string(audit_events.details, '$.period'))
            as period,
        submissions.version,
        audit_events.from_status,
        audit_events.to_status,
        audit_events.reason,
        audit_events.details
    from audit_events
    left join submissions
        on submissions.submission_id = audit_events.submission_id
    left join files
        on files.file_sha256 = audit_events.file_sha256

)

select * from final

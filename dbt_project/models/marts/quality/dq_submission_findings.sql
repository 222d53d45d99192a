-- Validation findings per submission (DOMAIN.md §5 item 15): one row per unit found in a file
-- (rejected ones included) x rule x severity, with the number of findings. Findings about a whole
-- file (no unit) are attributed to every unit of that file. A unit without findings has one row
-- with rule '_NONE' and 0 findings, so every submission appears.

with

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

findings as (

    select * from {{ ref('stg_raw__findings') }}

),

unit_findings as (

    select
        submissions.submission_id,
        findings.rule,
        findings.severity,
        count(*) as n_findings
    from submissions
    inner join findings
        on findings.submission_id = submissions.submission_id
        or (findings.submission_id is null and findings.file_sha256 = submissions.file_sha256)
    group by
        submissions.submission_id,
        findings.rule,
        findings.severity

),

with_none as (

    select * from unit_findings

    union all

    select
        submissions.submission_id,
        '_NONE' as rule,
        'NONE' as severity,
        0 as n_findings
    from submissions
    where not exists (
        select 1
        from unit_findings
        where unit_findings.submission_id = submissions.submission_id
    )

),

final as (

    select
        cast(with_none.submission_id as varchar) as submission_id,
        cast(submissions.file_sha256 as varchar) as file_sha256,
        cast(files.file_name as varchar) as file_name,
        cast(submissions.country as varchar) as country,
        cast(submissions.dataset as varchar) as dataset,
        cast(submissions.period as varchar) as period,
        cast(submissions.version as integer) as version,
        cast(submissions.current_status as varchar) as current_status,
        cast(with_none.rule as varchar) as rule,
        cast(with_none.severity as varchar) as severity,
        cast(with_none.n_findings as integer) as n_findings
    from with_none
    inner join submissions
        on submissions.submission_id = with_none.submission_id
    left join files
        on files.file_sha256 = submissions.file_sha256

)

select * from final

-- The policy items in use for each member x year: those of the unit's latest version whose
-- current status is validated or accepted (as int_units_latest_selected for the quarterly data
-- sets). obs_status A when that version is accepted (final), else P (provisional).

with

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

files as (

    select * from {{ ref('stg_raw__files') }}

),

items as (

    select * from {{ ref('stg_policy__reports') }}

),

eligible as (

    select
        submission_id,
        file_sha256,
        dataset,
        country,
        period,
        version,
        current_status,
        row_number() over (
            partition by country, dataset, period
            order by version desc, received_at desc, submission_id desc
        ) as version_rank
    from submissions
    where current_status in ('validated', 'accepted')
        and dataset in {{ annual_datasets() }}

),

final as (

    select
        eligible.country as ref_area,
        items.period_year as year,
        items.item,
        items.status,
        items.reference,
        items.item_date,
        items.valid_until,
        eligible.version,
        eligible.submission_id,
        case when eligible.current_status = 'accepted' then 'A' else 'P' end as obs_status,
        files.channel = 'demo' as is_illustrative
    from eligible
    inner join items
        on items.submission_id = eligible.submission_id
    left join files
        on files.file_sha256 = eligible.file_sha256
    where eligible.version_rank = 1

)

select * from final

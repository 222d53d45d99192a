-- The version the indicators use for each country x data set x quarter: the latest version whose
-- current status is validated or accepted (rejected and returned versions never count).
-- obs_status: 'A' when that version is accepted (final), else 'P' (provisional).

with

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

eligible as (

    select
        submission_id,
        dataset,
        country,
        period,
        version,
        current_status,
        received_at,
        row_number() over (
            partition by country, dataset, period
            order by version desc, received_at desc, submission_id desc
        ) as version_rank
    from submissions
    where current_status in ('validated', 'accepted')
        and dataset is not null
        and country is not null
        and period is not null
        -- the annual data sets (a year, not a quarter) have models of their own (policy/)
        and dataset not in {{ annual_datasets() }}

),

selected as (

    select
        submission_id,
        dataset,
        country,
        period,
        {{ period_year('period') }} as period_year,
        {{ period_quarter('period') }} as period_quarter,
        version,
        current_status
    from eligible
    where version_rank = 1

),

final as (

    select
        submission_id,
        dataset,
        country,
        period,
        period_year,
        period_quarter,
        {{ quarter_index('period_year', 'period_quarter') }} as period_index,
        {{ quarter_end_date('period_year', 'period_quarter') }} as period_end,
        version,
        current_status,
        case when current_status = 'accepted' then 'A' else 'P' end as obs_status
    from selected

)

select * from final

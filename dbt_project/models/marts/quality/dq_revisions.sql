-- Revisions per country x data set x quarter (DOMAIN.md §2, §5 item 15): how many versions
-- arrived, how many were rejected, which version the indicators use, and whether the figures
-- were revised (more than one version passed validation).

with

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

per_unit as (

    select
        country,
        dataset,
        period,
        count(*) as n_versions,
        sum(case when intake_status = 'rejected' then 1 else 0 end) as n_rejected,
        sum(case when intake_status = 'validated' then 1 else 0 end) as n_validated,
        min(received_at) as first_received_at,
        max(received_at) as last_received_at
    from submissions
    where country is not null
        and dataset is not null
        and period is not null
    group by
        country,
        dataset,
        period

),

final as (

    select
        cast(per_unit.country as varchar) as country,
        cast(per_unit.dataset as varchar) as dataset,
        cast(per_unit.period as varchar) as period,
        cast(per_unit.n_versions as integer) as n_versions,
        cast(per_unit.n_rejected as integer) as n_rejected,
        cast(per_unit.n_validated as integer) as n_validated,
        cast(per_unit.n_validated > 1 as boolean) as is_revised,
        cast(units.version as integer) as selected_version,
        cast(units.obs_status as varchar) as obs_status,
        per_unit.first_received_at,
        per_unit.last_received_at
    from per_unit
    left join units
        on units.country = per_unit.country
        and units.dataset = per_unit.dataset
        and units.period = per_unit.period

)

select * from final

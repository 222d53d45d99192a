-- Every unit the coalition expects (member x expected data set x quarter, from the first to the
-- last quarter any usable unit covers) and whether it was reported (a validated or accepted
-- version exists) and reported on time (the first version that passed validation arrived on or
-- before the due date; an operator back-load counts as late).

with

countries as (

    select * from {{ ref('countries') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

intake as (

    select * from {{ ref('stg_raw__submissions') }}

),

expected_datasets as (

    {% for dataset in var('expected_datasets') -%}
    select '{{ dataset }}' as dataset
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

quarter_range as (

    select
        min(period_index) as first_index,
        max(period_index) as last_index
    from units

),

quarters as (

    select
        quarter_spine.period_index,
        cast(floor(quarter_spine.period_index / 4) as integer) as period_year,
        cast(quarter_spine.period_index - 4 * floor(quarter_spine.period_index / 4) + 1 as integer) as period_quarter
    from quarter_range
    cross join lateral range(quarter_range.first_index, quarter_range.last_index + 1) as quarter_spine (period_index)

),

expected as (

    select
        countries.iso3 as country,
        expected_datasets.dataset,
        quarters.period_index,
        quarters.period_year,
        quarters.period_quarter
    from countries
    cross join expected_datasets
    cross join quarters
    where countries.member

),

first_valid_versions as (

    select
        submissions.country,
        submissions.dataset,
        submissions.period,
        min(submissions.version) as first_valid_version,
        count(*) as n_valid_versions
    from submissions
    where submissions.intake_status = 'validated'
    group by
        submissions.country,
        submissions.dataset,
        submissions.period

),

first_valid_timeliness as (

    select
        first_valid_versions.country,
        first_valid_versions.dataset,
        first_valid_versions.period,
        first_valid_versions.n_valid_versions,
        coalesce(not intake.is_late, false) as first_valid_on_time
    from first_valid_versions
    inner join intake
        on intake.country = first_valid_versions.country
        and intake.dataset = first_valid_versions.dataset
        and intake.period = first_valid_versions.period
        and intake.version = first_valid_versions.first_valid_version
        and intake.intake_status = 'validated'

),

final as (

    select
        expected.country,
        expected.dataset,
        {{ quarter_label('expected.period_year', 'expected.period_quarter') }} as period,
        expected.period_year,
        expected.period_quarter,
        expected.period_index,
        units.submission_id as selected_submission_id,
        units.version as selected_version,
        units.submission_id is not null as is_reported,
        units.submission_id is not null and coalesce(first_valid_timeliness.first_valid_on_time, false) as is_on_time,
        coalesce(units.obs_status, 'A') as obs_status
    from expected
    left join units
        on units.country = expected.country
        and units.dataset = expected.dataset
        and units.period_index = expected.period_index
    left join first_valid_timeliness
        on first_valid_timeliness.country = units.country
        and first_valid_timeliness.dataset = units.dataset
        and first_valid_timeliness.period = units.period

)

select * from final

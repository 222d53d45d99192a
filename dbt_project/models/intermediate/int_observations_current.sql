-- The observations of the selected version of each unit only (see int_units_latest_selected).

with

observations as (

    select * from {{ ref('stg_raw__observations') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

final as (

    select
        units.submission_id,
        units.version,
        units.dataset,
        units.country,
        units.period,
        units.period_year,
        units.period_quarter,
        units.period_index,
        units.obs_status,
        observations.row_number,
        observations.indicator,
        observations.sex,
        observations.age,
        observations.exploitation_form,
        observations.citizenship,
        observations.counterpart_area,
        observations.stage,
        observations.identification_channel,
        observations.unaccompanied,
        observations.value,
        observations.value_status
    from units
    inner join observations
        on observations.submission_id = units.submission_id

)

select * from final

-- Coordination counts per country and quarter (DOMAIN.md §5 item 12): REF_SENT, REF_RECEIVED and
-- JOINT_INVESTIGATIONS summed over counterparts. A COORDINATION unit lists only counterparts with
-- activity, so a unit without a row for an indicator had none: 0, not missing.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

coordination_indicators as (

    select 'REF_SENT' as indicator_code, 'PERSONS' as unit
    union all
    select 'REF_RECEIVED' as indicator_code, 'PERSONS' as unit
    union all
    select 'JOINT_INVESTIGATIONS' as indicator_code, 'INVESTIGATIONS' as unit

),

per_unit as (

    select
        submission_id,
        indicator,
        sum(value) as total
    from observations
    where dataset = 'COORDINATION'
        and counterpart_area not in ('_T', '_Z')
        and value is not null
    group by
        submission_id,
        indicator

),

final as (

    select
        coordination_indicators.indicator_code,
        coordination_indicators.unit,
        units.country as ref_area,
        units.period_year,
        units.period_quarter,
        units.period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        cast(coalesce(per_unit.total, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(1 as double) as multiplier,
        units.obs_status,
        true as is_quarterly
    from units
    cross join coordination_indicators
    left join per_unit
        on per_unit.submission_id = units.submission_id
        and per_unit.indicator = coordination_indicators.indicator_code
    where units.dataset = 'COORDINATION'

)

select * from final

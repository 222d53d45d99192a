-- REPORTING_RATE and ON_TIME_RATE per member and quarter (DOMAIN.md §5 item 14), as parts:
-- units reported (on time) over units expected (the expected data sets), x 100. A quarter with
-- nothing reported still has its row (0 of 5), so rolling and regional sums count it.

with

units as (

    select * from {{ ref('int_units_expected_reported') }}

),

per_quarter as (

    select
        country as ref_area,
        period_year,
        period_quarter,
        period_index,
        cast(sum(case when is_reported then 1 else 0 end) as double) as units_reported,
        cast(sum(case when is_on_time then 1 else 0 end) as double) as units_on_time,
        cast(count(*) as double) as units_expected,
        {{ combined_obs_status('case when is_reported then obs_status end') }} as obs_status
    from units
    group by
        country,
        period_year,
        period_quarter,
        period_index

),

final as (

    select
        'REPORTING_RATE' as indicator_code,
        'PERCENT' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        units_reported as numerator,
        units_expected as denominator,
        cast(100 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from per_quarter

    union all

    select
        'ON_TIME_RATE' as indicator_code,
        'PERCENT' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        units_on_time as numerator,
        units_expected as denominator,
        cast(100 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from per_quarter

)

select * from final

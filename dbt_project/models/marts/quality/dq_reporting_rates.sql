-- Reporting rate and on-time rate (DOMAIN.md §5 item 14) per member (and 'REG') x data set (and
-- '_T', all expected data sets) x quarter and calendar year. Expected = members x expected data
-- sets x quarters from the first to the last quarter any usable unit covers; a year counts the
-- quarters of that range within it (n_quarters says how many).

with

units as (

    select * from {{ ref('int_units_expected_reported') }}

),

labelled as (

    select
        country,
        dataset,
        {{ quarter_label('period_year', 'period_quarter') }} as time_period,
        'Q' as freq,
        period_year,
        period_quarter as last_quarter,
        period_index,
        is_reported,
        is_on_time
    from units

    union all

    select
        country,
        dataset,
        cast(period_year as varchar) as time_period,
        'A' as freq,
        period_year,
        4 as last_quarter,
        period_index,
        is_reported,
        is_on_time
    from units

),

aggregated as (

    select
        coalesce(country, 'REG') as ref_area,
        coalesce(dataset, '_T') as dataset,
        time_period,
        freq,
        period_year,
        last_quarter,
        count(distinct period_index) as n_quarters,
        count(*) as units_expected,
        sum(case when is_reported then 1 else 0 end) as units_reported,
        sum(case when is_on_time then 1 else 0 end) as units_on_time
    from labelled
    group by grouping sets (
        (country, dataset, time_period, freq, period_year, last_quarter),
        (country, time_period, freq, period_year, last_quarter),
        (dataset, time_period, freq, period_year, last_quarter),
        (time_period, freq, period_year, last_quarter)
    )

),

final as (

    select
        cast(ref_area as varchar) as ref_area,
        cast(dataset as varchar) as dataset,
        cast(time_period as varchar) as time_period,
        cast(freq as varchar) as freq,
        cast({{ quarter_end_date('period_year', 'last_quarter') }} as date) as period_end,
        cast(n_quarters as integer) as n_quarters,
        cast(units_expected as integer) as units_expected,
        cast(units_reported as integer) as units_reported,
        cast(units_on_time as integer) as units_on_time,
        cast(units_reported * 100.0 / units_expected as double) as reporting_rate,
        cast(units_on_time * 100.0 / units_expected as double) as on_time_rate
    from aggregated

)

select * from final

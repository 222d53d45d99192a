-- The one tidy table of indicator values the dashboard and exports read: one row per indicator x
-- area x period x breakdown. Country rows come from int_victim_indicators_windowed; regional rows
-- ('REG') sum numerators and denominators over the members that have the row (so regional rates
-- and shares are ratios of regional sums, and R4Q / A only count members with all four quarters).

with

country_indicators as (

    select * from {{ ref('int_victim_indicators_windowed') }}

),

countries as (

    select * from {{ ref('dim_country') }}

),

members as (

    select iso3
    from countries
    where member

),

member_count as (

    select count(*) as n_members
    from members

),

country_rows as (

    select
        indicator_code,
        ref_area,
        time_period,
        freq,
        period_end,
        sex,
        age,
        exploitation_form,
        value,
        unit,
        obs_status,
        1 as n_countries,
        1 as n_expected
    from country_indicators
    where value is not null

),

regional_sums as (

    select
        country_indicators.indicator_code,
        country_indicators.time_period,
        country_indicators.freq,
        country_indicators.period_end,
        country_indicators.sex,
        country_indicators.age,
        country_indicators.exploitation_form,
        country_indicators.unit,
        country_indicators.multiplier,
        sum(country_indicators.numerator) as numerator,
        sum(country_indicators.denominator) as denominator,
        count(*) as n_countries,
        {{ combined_obs_status('country_indicators.obs_status') }} as obs_status
    from country_indicators
    inner join members
        on members.iso3 = country_indicators.ref_area
    group by
        country_indicators.indicator_code,
        country_indicators.time_period,
        country_indicators.freq,
        country_indicators.period_end,
        country_indicators.sex,
        country_indicators.age,
        country_indicators.exploitation_form,
        country_indicators.unit,
        country_indicators.multiplier

),

regional_rows as (

    select
        regional_sums.indicator_code,
        'REG' as ref_area,
        regional_sums.time_period,
        regional_sums.freq,
        regional_sums.period_end,
        regional_sums.sex,
        regional_sums.age,
        regional_sums.exploitation_form,
        {{ indicator_value('regional_sums.numerator', 'regional_sums.denominator', 'regional_sums.multiplier') }} as value,
        regional_sums.unit,
        regional_sums.obs_status,
        regional_sums.n_countries,
        member_count.n_members as n_expected
    from regional_sums
    cross join member_count

),

unioned as (

    select * from country_rows
    union all
    select * from regional_rows
    where value is not null

),

final as (

    select
        cast(indicator_code as varchar) as indicator_code,
        cast(ref_area as varchar) as ref_area,
        cast(time_period as varchar) as time_period,
        cast(freq as varchar) as freq,
        cast(period_end as date) as period_end,
        cast(sex as varchar) as sex,
        cast(age as varchar) as age,
        cast(exploitation_form as varchar) as exploitation_form,
        cast(value as double) as value,
        cast(unit as varchar) as unit,
        cast(obs_status as varchar) as obs_status,
        cast(n_countries as integer) as n_countries,
        cast(n_expected as integer) as n_expected
    from unioned

)

select * from final

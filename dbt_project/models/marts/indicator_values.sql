-- The one tidy table of indicator values the dashboard and exports read: one row per indicator x
-- area x period x breakdown. Country rows come from int_indicator_values_country; regional rows
-- ('REG') sum numerators and denominators over the members that have the row (so regional rates
-- and shares are ratios of regional sums, and R4Q / A only count members with all four quarters).
-- Year-on-year changes (<code>_YOY) compare a row with the same row a year earlier, shown only
-- when that base is at least var('yoy_min_base') (10); a regional change only when the same
-- number of members stands behind both periods.
-- is_complete_year (annual rows only, null for Q and R4Q): all four quarters the year rests on are
-- accepted (DOMAIN.md §2); false flags an incomplete year. REG: every member in the row is
-- complete; a change: both years are.

with

country_indicators as (

    select * from {{ ref('int_indicator_values_country') }}

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
        1 as n_expected,
        is_complete_year
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
        {{ combined_obs_status('country_indicators.obs_status') }} as obs_status,
        case
            when country_indicators.freq = 'A' then bool_and(country_indicators.is_complete_year)
        end as is_complete_year
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
        member_count.n_members as n_expected,
        regional_sums.is_complete_year
    from regional_sums
    cross join member_count

),

levels as (

    select * from country_rows
    union all
    select * from regional_rows
    where value is not null

),

year_on_year as (

    select
        current_period.indicator_code || '_YOY' as indicator_code,
        current_period.ref_area,
        current_period.time_period,
        current_period.freq,
        current_period.period_end,
        current_period.sex,
        current_period.age,
        current_period.exploitation_form,
        (current_period.value - base_period.value) * 100.0 / base_period.value as value,
        'PERCENT' as unit,
        case
            when current_period.obs_status = 'P' or base_period.obs_status = 'P' then 'P'
            else 'A'
        end as obs_status,
        current_period.n_countries,
        current_period.n_expected,
        case
            when current_period.freq = 'A' then current_period.is_complete_year and base_period.is_complete_year
        end as is_complete_year
    from levels as current_period
    inner join levels as base_period
        on base_period.indicator_code = current_period.indicator_code
        and base_period.ref_area = current_period.ref_area
        and base_period.freq = current_period.freq
        and base_period.sex = current_period.sex
        and base_period.age = current_period.age
        and base_period.exploitation_form = current_period.exploitation_form
        and base_period.period_end = cast(current_period.period_end - interval '1 year' as date)
        and base_period.n_countries = current_period.n_countries
    where current_period.indicator_code in ('VIC_DETECTED', 'TIP_PROSECUTED', 'TIP_CONVICTED', 'SOM_DETECTED')
        and base_period.value >= {{ var('yoy_min_base') }}

),

unioned as (

    select * from levels
    union all
    select * from year_on_year

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
        cast(n_expected as integer) as n_expected,
        cast(is_complete_year as boolean) as is_complete_year
    from unioned

)

select * from final

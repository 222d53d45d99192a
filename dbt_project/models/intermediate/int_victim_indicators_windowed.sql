-- Every victim indicator per country at its three frequencies, with its value:
--   Q    the quarter itself (counts and shares; never rates)
--   R4Q  the four quarters ending in a quarter, only when all four are present for that cell
--   A    the calendar year = the R4Q ending in Q4, so only when all four quarters are present
-- and VIC_RATE_100K = victims / mid-year population x 100000 for R4Q and A (population of the year
-- of the ending quarter): total, by sex (F, M), by age (Y0T17, Y_GE18) and by exploitation form.
-- No population, no rate.

with

quarterly as (

    select * from {{ ref('int_victim_indicators_derived') }}

),

population as (

    select * from {{ ref('population') }}

),

rolling_four_quarters as (

    select
        ending.indicator_code,
        ending.unit,
        ending.ref_area,
        ending.period_year,
        ending.period_quarter,
        ending.sex,
        ending.age,
        ending.exploitation_form,
        sum(window_quarter.numerator) as numerator,
        sum(window_quarter.denominator) as denominator,
        ending.multiplier,
        {{ combined_obs_status('window_quarter.obs_status') }} as obs_status
    from quarterly as ending
    inner join quarterly as window_quarter
        on window_quarter.indicator_code = ending.indicator_code
        and window_quarter.ref_area = ending.ref_area
        and window_quarter.sex = ending.sex
        and window_quarter.age = ending.age
        and window_quarter.exploitation_form = ending.exploitation_form
        and window_quarter.period_index between ending.period_index - 3 and ending.period_index
    group by
        ending.indicator_code,
        ending.unit,
        ending.ref_area,
        ending.period_year,
        ending.period_quarter,
        ending.sex,
        ending.age,
        ending.exploitation_form,
        ending.multiplier
    having count(*) = 4

),

rates as (

    select
        'VIC_RATE_100K' as indicator_code,
        'PER_100K' as unit,
        victims.ref_area,
        victims.period_year,
        victims.period_quarter,
        victims.sex,
        victims.age,
        victims.exploitation_form,
        victims.numerator,
        cast(population.population as double) as denominator,
        cast(100000 as double) as multiplier,
        victims.obs_status
    from rolling_four_quarters as victims
    inner join population
        on population.iso3 = victims.ref_area
        and population.year = victims.period_year
        and population.sex = case victims.sex
            when 'F' then 'F'
            when 'M' then 'M'
            when '_T' then 'total'
        end
        and population.age_group = case victims.age
            when 'Y0T17' then '0-17'
            when 'Y_GE18' then '18+'
            when '_T' then 'total'
        end
    where victims.indicator_code = 'VIC_DETECTED'

),

windowed as (

    select * from rolling_four_quarters
    union all
    select * from rates

),

labelled as (

    select
        indicator_code,
        ref_area,
        {{ quarter_label('period_year', 'period_quarter') }} as time_period,
        'Q' as freq,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        unit,
        numerator,
        denominator,
        multiplier,
        obs_status
    from quarterly

    union all

    select
        indicator_code,
        ref_area,
        {{ quarter_label('period_year', 'period_quarter') }} || '-R4Q' as time_period,
        'R4Q' as freq,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        unit,
        numerator,
        denominator,
        multiplier,
        obs_status
    from windowed

    union all

    select
        indicator_code,
        ref_area,
        cast(period_year as varchar) as time_period,
        'A' as freq,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        unit,
        numerator,
        denominator,
        multiplier,
        obs_status
    from windowed
    where period_quarter = 4

),

final as (

    select
        indicator_code,
        ref_area,
        time_period,
        freq,
        {{ quarter_end_date('period_year', 'period_quarter') }} as period_end,
        sex,
        age,
        exploitation_form,
        unit,
        numerator,
        denominator,
        multiplier,
        {{ indicator_value('numerator', 'denominator', 'multiplier') }} as value,
        obs_status
    from labelled

)

select * from final

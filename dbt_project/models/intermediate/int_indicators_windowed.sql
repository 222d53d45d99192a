-- The indicator families beyond victims' core (justice, smuggling, victim profile, coordination,
-- reporting) per country at Q, R4Q and A, like int_victim_indicators_windowed:
--   Q    the quarter itself, for parts marked is_quarterly (never ratios meant for four quarters)
--   R4Q  the four quarters ending in a quarter, only when all four are present for that cell
--   A    the calendar year = the R4Q ending in Q4, so only when all four quarters are present
-- plus TIP_PROSECUTED_RATE_100K and TIP_CONVICTED_RATE_100K (R4Q and A; total, sex F/M, age
-- Y0T17/Y_GE18; population of the year of the ending quarter).

with

quarterly as (

    select * from {{ ref('int_justice_indicators_derived') }}
    union all
    select * from {{ ref('int_smuggling_indicators_derived') }}
    union all
    select * from {{ ref('int_victim_profile_indicators_derived') }}
    union all
    select * from {{ ref('int_coordination_indicators_derived') }}
    union all
    select * from {{ ref('int_reporting_indicators_derived') }}

),

population as (

    select * from {{ ref('population') }}

),

rolling as (

    select
        indicator_code,
        unit,
        ref_area,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        multiplier,
        sum(numerator) over four_quarters as numerator,
        sum(denominator) over four_quarters as denominator,
        max(case when obs_status = 'P' then 1 else 0 end) over four_quarters as is_provisional,
        count(*) over four_quarters as quarters_in_window
    from quarterly
    window four_quarters as (
        partition by indicator_code, ref_area, sex, age, exploitation_form
        order by period_index
        range between 3 preceding and current row
    )

),

rolling_four_quarters as (

    select
        indicator_code,
        unit,
        ref_area,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        numerator,
        denominator,
        multiplier,
        case when is_provisional = 1 then 'P' else 'A' end as obs_status
    from rolling
    where quarters_in_window = 4

),

rates as (

    select
        persons.indicator_code || '_RATE_100K' as indicator_code,
        'PER_100K' as unit,
        persons.ref_area,
        persons.period_year,
        persons.period_quarter,
        persons.sex,
        persons.age,
        persons.exploitation_form,
        persons.numerator,
        cast(population.population as double) as denominator,
        cast(100000 as double) as multiplier,
        persons.obs_status
    from rolling_four_quarters as persons
    inner join population
        on population.iso3 = persons.ref_area
        and population.year = persons.period_year
        and population.sex = case persons.sex
            when 'F' then 'F'
            when 'M' then 'M'
            when '_T' then 'total'
        end
        and population.age_group = case persons.age
            when 'Y0T17' then '0-17'
            when 'Y_GE18' then '18+'
            when '_T' then 'total'
        end
    where persons.indicator_code in ('TIP_PROSECUTED', 'TIP_CONVICTED')

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
    where is_quarterly

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

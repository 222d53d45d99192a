-- The indicator families beyond victims' core (justice, smuggling, victim profile, coordination,
-- reporting) per country at Q, R4Q and A, like int_victim_indicators_windowed (macros/windows.sql):
--   Q    the quarter itself, for parts marked is_quarterly (never ratios meant for four quarters)
--   R4Q  the four quarters ending in a quarter, only when all four are present for that cell
--   A    the calendar year = the R4Q ending in Q4, so only when all four quarters are present;
--        is_complete_year false when fewer than four of them are accepted (an incomplete year)
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

rolling_four_quarters as (

    {{ rolling_four_quarters('quarterly') }}

),

rates as (

    {{ rates_per_100k('rolling_four_quarters', 'population', {
        'TIP_PROSECUTED': 'TIP_PROSECUTED_RATE_100K',
        'TIP_CONVICTED': 'TIP_CONVICTED_RATE_100K',
    }) }}

),

windowed as (

    select * from rolling_four_quarters
    union all
    select * from rates

),

final as (

    {{ indicator_frequencies('quarterly', 'windowed', quarterly_filter='is_quarterly') }}

)

select * from final

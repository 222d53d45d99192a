-- Every victim indicator per country at its three frequencies, with its value (macros/windows.sql):
--   Q    the quarter itself (counts and shares; never rates)
--   R4Q  the four quarters ending in a quarter, only when all four are present for that cell
--   A    the calendar year = the R4Q ending in Q4, so only when all four quarters are present;
--        is_complete_year false when fewer than four of them are accepted (an incomplete year)
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

    {{ rolling_four_quarters('quarterly') }}

),

rates as (

    {{ rates_per_100k('rolling_four_quarters', 'population', {'VIC_DETECTED': 'VIC_RATE_100K'}) }}

),

windowed as (

    select * from rolling_four_quarters
    union all
    select * from rates

),

final as (

    {{ indicator_frequencies('quarterly', 'windowed') }}

)

select * from final

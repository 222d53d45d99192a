-- Which calendar years are complete (DOMAIN.md §2: annual figures only when all four quarters are
-- in), per member x expected data set x year of the reporting range. indicator_values holds an
-- annual row only for a year with four quarters, with is_complete_year false unless all four are
-- accepted (the complete_provisional years here); this table also lists the years with fewer
-- quarters ('incomplete', no annual row).
--   year_status  complete_accepted     four quarters, all accepted (final)
--                complete_provisional  four quarters, some only validated (figures carry P)
--                incomplete            fewer than four quarters (no annual figure)

with

units as (

    select * from {{ ref('int_units_expected_reported') }}

),

per_year as (

    select
        country,
        dataset,
        period_year,
        sum(case when is_reported then 1 else 0 end) as quarters_reported,
        sum(case when is_reported and obs_status = 'A' then 1 else 0 end) as quarters_accepted
    from units
    group by
        country,
        dataset,
        period_year

),

final as (

    select
        cast(country as varchar) as country,
        cast(dataset as varchar) as dataset,
        cast(cast(period_year as varchar) as varchar) as time_period,
        cast(quarters_reported as integer) as quarters_reported,
        cast(quarters_accepted as integer) as quarters_accepted,
        cast(quarters_reported = 4 as boolean) as is_complete,
        cast(
            case
                when quarters_reported < 4 then 'incomplete'
                when quarters_accepted = 4 then 'complete_accepted'
                else 'complete_provisional'
            end
            as varchar
        ) as year_status
    from per_year

)

select * from final

-- The harmonisation index per member and year (DOMAIN.md §9): the mean score over the items
-- whose status is known (yes 1, partial 0.5, no 0), from 0 to 1; items reported unknown are
-- counted apart (n_unknown) and never as 0, so the index says how far the known framework goes
-- and n_unknown how much is not known. The region (REG): the mean of the members' indices that
-- year, with how many members it rests on.

with

matrix as (

    select * from {{ ref('harmonisation_matrix') }}

),

members as (

    select
        ref_area,
        year,
        count(*) as n_items,
        count(score) as n_known,
        count(*) filter (where status = 'yes') as n_yes,
        count(*) filter (where status = 'partial') as n_partial,
        count(*) filter (where status = 'no') as n_no,
        count(*) filter (where status = 'unknown') as n_unknown,
        avg(score) as index_value,
        1 as n_countries,
        -- A when every answer is in an accepted version, else P (provisional)
        case when bool_and(obs_status = 'A') then 'A' else 'P' end as obs_status,
        bool_or(is_illustrative) as is_illustrative
    from matrix
    group by ref_area, year

),

region as (

    select
        'REG' as ref_area,
        year,
        sum(n_items) as n_items,
        sum(n_known) as n_known,
        sum(n_yes) as n_yes,
        sum(n_partial) as n_partial,
        sum(n_no) as n_no,
        sum(n_unknown) as n_unknown,
        avg(index_value) as index_value,
        count(index_value) as n_countries,
        case when bool_and(obs_status = 'A') then 'A' else 'P' end as obs_status,
        bool_or(is_illustrative) as is_illustrative
    from members
    group by year

),

unioned as (

    select * from members
    union all
    select * from region

),

final as (

    select
        ref_area,
        year,
        cast(year as varchar) as time_period,
        cast(n_items as integer) as n_items,
        cast(n_known as integer) as n_known,
        cast(n_yes as integer) as n_yes,
        cast(n_partial as integer) as n_partial,
        cast(n_no as integer) as n_no,
        cast(n_unknown as integer) as n_unknown,
        round(index_value, 4) as index_value,
        cast(n_countries as integer) as n_countries,
        obs_status,
        is_illustrative
    from unioned

)

select * from final

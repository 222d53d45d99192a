-- Regional gaps (DOMAIN.md §9): per item and year, how many members answered each status and
-- which members are not (yet) aligned (no or partial). `differs`: members with a known status
-- do not all give the same one, where regional harmonisation has work to do.

with

matrix as (

    select * from {{ ref('harmonisation_matrix') }}

),

final as (

    select
        item,
        year,
        cast(count(*) as integer) as n_members,
        cast(count(*) filter (where status = 'yes') as integer) as n_yes,
        cast(count(*) filter (where status = 'partial') as integer) as n_partial,
        cast(count(*) filter (where status = 'no') as integer) as n_no,
        cast(count(*) filter (where status = 'unknown') as integer) as n_unknown,
        coalesce(string_agg(ref_area, ', ' order by ref_area)
            filter (where status in ('no', 'partial')), '') as members_not_aligned,
        count(distinct status) filter (where status <> 'unknown') > 1 as differs,
        bool_or(is_illustrative) as is_illustrative
    from matrix
    group by item, year

)

select * from final

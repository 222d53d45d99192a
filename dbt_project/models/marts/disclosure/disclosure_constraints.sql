-- The additive structure of the published counts (cells whose registry rule is
-- PRIMARY_SMALL_COUNT): every margin cell with the parts that add up to it, one row per part.
-- A group shares every key but one: sex, age or exploitation form (parts -> '_T', detail age bands
-- -> their broad group), the area (member countries -> 'REG') or time (the four quarters -> the
-- R4Q or calendar-year row). Secondary suppression (indicator_values_published) makes sure no
-- group holds exactly one hidden cell, margin included. Cell ids are disclosure_cell_id: a year
-- and the R4Q ending in its Q4 are one cell, so their groups are one group (select distinct).
-- A region that only one member stands behind is a group of one part: the region equals it.
-- A rolling window other than a calendar year belongs to no group: it is published only where
-- every quarter it spans is (indicator_values_protected), so its value and every sum it enters
-- follow from published quarters, and hiding a second quarter to protect it would protect nothing.
-- Internal: not published.

{{ config(schema='internal') }}

with

indicator_values as (

    select * from {{ ref('indicator_values') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

countries as (

    select * from {{ ref('dim_country') }}

),

counts as (

    select
        indicator_values.indicator_code,
        indicator_values.ref_area,
        indicator_values.time_period,
        indicator_values.freq,
        indicator_values.period_end,
        indicator_values.sex,
        indicator_values.age,
        indicator_values.exploitation_form,
        {{ disclosure_cell_id('indicator_values') }} as cell_id
    from indicator_values
    inner join indicators
        on indicators.indicator_code = indicator_values.indicator_code
    where indicators.disclosure_rule = 'PRIMARY_SMALL_COUNT'
        and not {{ disclosure_is_window('indicator_values') }}

),

by_sex as (

    select
        'sex' as dimension,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as part
    inner join counts as margin
        on margin.indicator_code = part.indicator_code
        and margin.ref_area = part.ref_area
        and margin.time_period = part.time_period
        and margin.sex = {{ disclosure_parent_code('sex', 'part.sex') }}
        and margin.age = part.age
        and margin.exploitation_form = part.exploitation_form

),

by_age as (

    select
        'age' as dimension,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as part
    inner join counts as margin
        on margin.indicator_code = part.indicator_code
        and margin.ref_area = part.ref_area
        and margin.time_period = part.time_period
        and margin.sex = part.sex
        and margin.age = {{ disclosure_parent_code('age', 'part.age') }}
        and margin.exploitation_form = part.exploitation_form

),

by_form as (

    select
        'exploitation_form' as dimension,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as part
    inner join counts as margin
        on margin.indicator_code = part.indicator_code
        and margin.ref_area = part.ref_area
        and margin.time_period = part.time_period
        and margin.sex = part.sex
        and margin.age = part.age
        and margin.exploitation_form = {{ disclosure_parent_code('exploitation_form', 'part.exploitation_form') }}

),

by_area as (

    select
        'ref_area' as dimension,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as part
    inner join countries
        on countries.iso3 = part.ref_area
        and countries.member
    inner join counts as margin
        on margin.indicator_code = part.indicator_code
        and margin.ref_area = 'REG'
        and margin.time_period = part.time_period
        and margin.sex = part.sex
        and margin.age = part.age
        and margin.exploitation_form = part.exploitation_form

),

by_time as (

    select
        'time_period' as dimension,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as part
    inner join counts as margin
        on margin.indicator_code = part.indicator_code
        and margin.ref_area = part.ref_area
        and margin.sex = part.sex
        and margin.age = part.age
        and margin.exploitation_form = part.exploitation_form
        and margin.freq in ('R4Q', 'A')  -- calendar years only: the other windows are left out above
        and {{ disclosure_quarter_in_window('part', 'margin') }}
    where part.freq = 'Q'

),

unioned as (

    select * from by_sex
    union all
    select * from by_age
    union all
    select * from by_form
    union all
    select * from by_area
    union all
    select * from by_time

),

final as (

    select distinct
        cast(margin_id || '#' || dimension as varchar) as constraint_id,
        cast(dimension as varchar) as dimension,
        cast(margin_id as varchar) as margin_id,
        cast(part_id as varchar) as part_id
    from unioned

)

select * from final

-- marts.indicator_values under rules 1-3 of disclosure control (the header of
-- indicator_values_published says them). Internal: coordination_mirror_published protects the
-- referral pairs against the REF_SENT / REF_RECEIVED totals published here, and
-- indicator_values_published then hides REF_MIRROR_GAP where a pair it rests on is hidden.

{{ config(schema='internal') }}

{%- set min_count = disclosure_min_count() %}
{%- set passes = var('disclosure_max_passes') %}

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

country_parts as (

    select * from {{ ref('int_indicator_values_country') }}

),

constraints as (

    select * from {{ ref('disclosure_constraints') }}

),

ratio_bases as (

    {{ disclosure_ratio_bases() }}

),

cells as (

    select
        indicator_values.*,
        coalesce(indicators.disclosure_rule, 'PRIMARY_SMALL_COUNT') as disclosure_rule,
        {{ disclosure_cell_id('indicator_values') }} as cell_id
    from indicator_values
    left join indicators
        on indicators.indicator_code = indicator_values.indicator_code

),

counts as (

    select * from cells
    where disclosure_rule = 'PRIMARY_SMALL_COUNT'

),

-- A cell's series: the same indicator, area and breakdown in every period.
series_cells as (

    select distinct
        cell_id,
        value,
        indicator_code || '|' || ref_area || '|' || sex || '|' || age || '|' || exploitation_form
            as series
    from counts

),

-- Series with a small count in some period: hiding one of their cells where a second cell must
-- go keeps the pattern of hidden cells alike from quarter to quarter.
small_series as (

    select distinct series
    from series_cells
    where value >= 1
        and value < {{ min_count }}

),

constraint_parts as materialized (

    select
        constraints.constraint_id,
        constraints.margin_id,
        constraints.part_id,
        series_cells.value as part_value,
        true as part_pickable,
        small_series.series is not null as part_preferred,
        true as margin_pickable
    from constraints
    inner join series_cells  -- one row per cell id (a year and its R4Q-Q4 share one)
        on series_cells.cell_id = constraints.part_id
    left join small_series
        on small_series.series = series_cells.series

),

-- Cells the disclosure audit hid on an earlier build (pipelines/lib/disclosure/repair.py): hidden
-- from the start, so the passes below also complete the groups they belong to.
repairs as (

    select cell_id from {{ source('disclosure', 'repairs') }}

),

withheld as (

    select cell_id from {{ ref('disclosure_withheld') }}

),

{{ disclosure_secondary_passes(passes, min_count, 'repairs', 'withheld') }},

-- A small total over two or more small parts is shown as D, not A: published as "<5" next to
-- its "<5" parts it could only be 2..4 (and each part 1..3), which tells them apart from 1 or 4
-- by the flags alone. As D it is only known to be hidden.
small_over_small as (

    select constraint_parts.margin_id as cell_id
    from constraint_parts
    inner join primary_0
        on primary_0.cell_id = constraint_parts.part_id
    where constraint_parts.margin_id in (select cell_id from primary_0)
    group by constraint_parts.constraint_id, constraint_parts.margin_id
    having count(distinct primary_0.cell_id) >= 2

),

-- A rolling window other than a calendar year is published only where every quarter it spans
-- is (disclosure_is_window): otherwise it is left out of the published rows altogether, no value
-- and no flag, like any figure the publication does not offer. Its status comes from its quarters
-- alone (a repair of an earlier design that named a window counts for nothing).
windows as (

    select distinct cell_id, indicator_code, ref_area, sex, age, exploitation_form, period_end
    from counts
    where {{ disclosure_is_window('counts') }}

),

hidden_quarters as (

    select
        counts.indicator_code, counts.ref_area, counts.sex, counts.age, counts.exploitation_form,
        counts.period_end
    from counts
    inner join secondary_status
        on secondary_status.cell_id = counts.cell_id
    where counts.freq = 'Q'

),

withdrawn_windows as (

    select distinct windows.cell_id
    from windows
    inner join hidden_quarters as hidden_quarter
        on hidden_quarter.indicator_code = windows.indicator_code
        and hidden_quarter.ref_area = windows.ref_area
        and hidden_quarter.sex = windows.sex
        and hidden_quarter.age = windows.age
        and hidden_quarter.exploitation_form = windows.exploitation_form
        and {{ disclosure_quarter_in_window('hidden_quarter', 'windows') }}

),

hidden_status as (

    select
        cell_id,
        case
            when conf_status = 'A' and cell_id in (select cell_id from small_over_small) then 'D'
            else conf_status
        end as conf_status
    from secondary_status
    where cell_id not in (select cell_id from windows)
    union all
    select cell_id, 'D' as conf_status
    from withdrawn_windows

),

regional_parts as (

    select
        country_parts.indicator_code,
        'REG' as ref_area,
        country_parts.time_period,
        country_parts.sex,
        country_parts.age,
        country_parts.exploitation_form,
        sum(country_parts.numerator) as numerator,
        sum(country_parts.denominator) as denominator
    from country_parts
    inner join countries
        on countries.iso3 = country_parts.ref_area
        and countries.member
    group by
        country_parts.indicator_code,
        country_parts.time_period,
        country_parts.sex,
        country_parts.age,
        country_parts.exploitation_form

),

ratio_parts as (

    select
        indicator_code, ref_area, time_period, sex, age, exploitation_form, numerator, denominator
    from country_parts
    union all
    select
        indicator_code, ref_area, time_period, sex, age, exploitation_form, numerator, denominator
    from regional_parts

),

ratio_primary as (

    select distinct
        cells.cell_id,
        'A' as conf_status
    from cells
    inner join ratio_parts
        on ratio_parts.indicator_code = cells.indicator_code
        and ratio_parts.ref_area = cells.ref_area
        and ratio_parts.time_period = cells.time_period
        and ratio_parts.sex = cells.sex
        and ratio_parts.age = cells.age
        and ratio_parts.exploitation_form = cells.exploitation_form
    where cells.disclosure_rule = 'RATIO_FOLLOWS_COUNTS'
        and (
            (ratio_parts.numerator >= 1 and ratio_parts.numerator < {{ min_count }})
            or (ratio_parts.denominator >= 1 and ratio_parts.denominator < {{ min_count }})
        )

),

hidden_counts as (

    select
        counts.*
    from counts
    inner join hidden_status
        on hidden_status.cell_id = counts.cell_id

),

ratio_secondary as (

    select distinct
        cells.cell_id,
        'D' as conf_status
    from cells
    inner join ratio_bases
        on ratio_bases.ratio_code = cells.indicator_code
    inner join hidden_counts as base
        on base.indicator_code = ratio_bases.base_code
        and base.ref_area = cells.ref_area
        and base.freq = cells.freq
        and base.period_end = case
            when ratio_bases.lag_years = 0 then cells.period_end
            else cast({{ dbt.dateadd('year', '-1', 'cells.period_end') }} as date)
        end
        and (ratio_bases.span in ('sex', 'sex_age') or base.sex = cells.sex)
        and (ratio_bases.span in ('age', 'sex_age') or base.age = cells.age)
        and (ratio_bases.span = 'exploitation_form' or base.exploitation_form = cells.exploitation_form)

),

-- The shares that rest on flows by citizenship are not published for a rolling window other
-- than a calendar year: unknown citizenship is never shown, so such a share ties the flows of the
-- quarters of two years together, and the flows of those quarters are what it would give away.
window_citizenship as (

    select distinct
        cells.cell_id,
        'D' as conf_status
    from cells
    where {{ disclosure_is_window('cells') }}
        and cells.indicator_code in (
            'VIC_DOMESTIC_SHARE', 'VIC_FOREIGN_SHARE', 'VIC_INTRAREG_SHARE',
            'VIC_CITIZENSHIP_UNKNOWN_SHARE'
        )

),

ratio_status as (

    select
        cell_id,
        min(conf_status) as conf_status  -- 'A' before 'D'
    from (
        select * from ratio_primary
        union all
        select * from ratio_secondary
        union all
        select * from window_citizenship
    ) as ratio_hidden
    group by cell_id

),

final as (

    select
        cast(cells.indicator_code as varchar) as indicator_code,
        cast(cells.ref_area as varchar) as ref_area,
        cast(cells.time_period as varchar) as time_period,
        cast(cells.freq as varchar) as freq,
        cast(cells.period_end as date) as period_end,
        cast(cells.sex as varchar) as sex,
        cast(cells.age as varchar) as age,
        cast(cells.exploitation_form as varchar) as exploitation_form,
        cast(
            case
                when coalesce(hidden_status.conf_status, ratio_status.conf_status) is null then cells.value
            end as double
        ) as value,
        cast(cells.unit as varchar) as unit,
        cast(cells.obs_status as varchar) as obs_status,
        cast(coalesce(hidden_status.conf_status, ratio_status.conf_status, 'F') as varchar) as conf_status,
        cast(cells.n_countries as integer) as n_countries,
        cast(cells.n_expected as integer) as n_expected,
        cast(cells.is_complete_year as boolean) as is_complete_year
    from cells
    left join hidden_status
        on hidden_status.cell_id = cells.cell_id
    left join ratio_status
        on ratio_status.cell_id = cells.cell_id
    where cells.cell_id not in (select cell_id from withdrawn_windows)

)

select * from final

-- The publication design for small series (DOMAIN.md §6, README "The disclosure audit"): where a
-- member's indicator has a count from 1 to var('disclosure_min_count') - 1 in some quarter or
-- breakdown of a calendar year, that member's breakdowns of the indicator for the year (sex, age,
-- form, quarterly and annual, and for detected victims the flows by citizenship) are withheld:
-- status N, no value and no "<5" flag. Its quarterly totals stay published unless one of them
-- (or the year) is small too, in which case only the annual total is published.
--
-- Why: next to their year, quarters and overlapping windows publish the same few people several
-- times, and a "<5" flag tells a reader each hidden cell is at least 1; on small series those two
-- facts let arithmetic narrow most hidden counts whatever single cells are hidden beside them
-- (the disclosure audit measured it). A withheld block is one unknown per cell that is only known
-- to be a count, so what is left to protect is the annual total, which secondary suppression and
-- the audit handle like any other cell. The region and the other members keep their detail; the
-- loss falls on the quarters and breakdowns of the members' small series, as the coalition asked
-- (regional figures and each member's annual totals first).
--
-- Opt-in: var('disclosure_small_series_annual_only') is true only with
-- OBSERVATORY_DISCLOSURE_SMALL_SERIES=annual (README says why it is not the default yet); otherwise
-- nothing is withheld. Internal: cell ids (disclosure_cell_id, flow ids as relations.py writes
-- them) read by indicator_values_protected and flows_victims.

{{ config(schema='internal') }}

{%- set min_count = disclosure_min_count() %}

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

flows as (

    select * from {{ ref('flows_victims_full') }}

),

counts as (

    select
        indicator_values.indicator_code,
        indicator_values.ref_area,
        indicator_values.freq,
        indicator_values.period_end,
        indicator_values.value,
        indicator_values.sex = '_T' and indicator_values.age = '_T'
            and indicator_values.exploitation_form = '_T' as is_total,
        {{ disclosure_cell_id('indicator_values') }} as cell_id
    from indicator_values
    inner join indicators
        on indicators.indicator_code = indicator_values.indicator_code
        and indicators.disclosure_rule = 'PRIMARY_SMALL_COUNT'
    inner join countries
        on countries.iso3 = indicator_values.ref_area
        and countries.member

),

-- A window or a year of 1..4 has a quarter of 1..4, so the quarters and years say it all.
-- small_totals: the same for the indicator's quarterly and annual totals alone.
small_years as materialized (

    select
        indicator_code,
        ref_area,
        year(period_end) as year,
        bool_or(is_total) as small_totals
    from counts
    where freq in ('Q', 'A')
        and value >= 1
        and value < {{ min_count }}
        and {{ var('disclosure_small_series_annual_only') }}
    group by indicator_code, ref_area, year(period_end)

),

withheld_cells as (

    select distinct counts.cell_id
    from counts
    inner join small_years
        on small_years.indicator_code = counts.indicator_code
        and small_years.ref_area = counts.ref_area
        and (
            small_years.year = year(counts.period_end)
            -- a window ending in Q1..Q3 also covers quarters of the year before
            or (counts.freq = 'R4Q' and month(counts.period_end) <> 12
                and small_years.year = year(counts.period_end) - 1)
        )
    -- every breakdown (quarterly, annual, windows: a year and the R4Q ending in its Q4 share one
    -- cell id); the totals other than the year's where a quarterly total is small itself (a big
    -- member's quarterly totals stay published when only a breakdown is small)
    where not counts.is_total
        or (small_years.small_totals and (counts.freq = 'Q' or month(counts.period_end) <> 12))

),

withheld_flows as (

    select distinct
        'FLOW|' || flows.origin_area || '|' || flows.destination_area || '|'
            || case when flows.freq = 'A' then flows.time_period || '-Q4-R4Q' else flows.time_period end
            || '|_T|_T|_T' as cell_id
    from flows
    inner join small_years
        on small_years.indicator_code = 'VIC_DETECTED'
        and small_years.ref_area = flows.destination_area
        and (
            small_years.year = year(flows.period_end)
            or (flows.freq = 'R4Q' and month(flows.period_end) <> 12
                and small_years.year = year(flows.period_end) - 1)
        )

),

final as (

    select cast(cell_id as varchar) as cell_id from withheld_cells
    union all
    select cast(cell_id as varchar) as cell_id from withheld_flows

)

select * from final

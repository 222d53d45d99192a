-- marts.indicator_values under disclosure control (DOMAIN.md §6): what every outward-facing
-- consumer (exports, SDMX, the evaluator pages) reads. Same rows and columns as
-- marts.indicator_values plus conf_status (SDMX CONF_STATUS): F free, A primary (small count),
-- D secondary. value is null whenever conf_status is not F; counts are never rounded.
--
-- 1. Primary: a count (registry rule PRIMARY_SMALL_COUNT) from 1 to var('disclosure_min_count')
--    - 1 is hidden (A).
-- 2. Secondary: for every additive group of disclosure_constraints (a margin and its parts along
--    one breakdown: sex, age, form, member countries -> REG, quarters -> R4Q / year) that holds
--    exactly one hidden cell, margin included, a published part is hidden too (non-zero parts
--    first, then a part whose series has a small count in some period, so the pattern stays alike
--    from quarter to quarter, then the smallest; the margin when no part is left), until no group holds one
--    hidden cell (var('disclosure_max_passes') passes, checked by a test). A hidden margin with
--    every part published would be their sum (and a region of one member is that member's
--    value). A year and the R4Q ending in its Q4 share one cell id (disclosure_cell_id), so they
--    always share one status.
--    A rolling window other than a calendar year belongs to no group and is left out (no row)
--    wherever a quarter it spans is hidden: next to its neighbours it would give that quarter
--    away by differences, and where its quarters are published it tells nothing more.
-- 3. Rates, shares and ratios (rule RATIO_FOLLOWS_COUNTS): hidden (A) when their own numerator
--    or denominator is a count from 1 to the threshold - 1; any ratio listed in
--    disclosure_ratio_bases() is hidden (D) when a count it rests on is hidden.
-- 4. REF_MIRROR_GAP (a ratio of sums over a sender's pairs, int_indicator_values_country) is
--    hidden (D) when a pair it rests on has a hidden side in coordination_mirror_published (its
--    gap_conf_status D), the region's when any member's is. Rules 1-3 are
--    indicator_values_protected; the pairs are protected against the totals it publishes.
-- The stricter minimum for tables of three or more dimensions crossing children and citizenship
-- (var('disclosure_min_count_child_citizenship')) has no table to apply to: no published mart
-- crosses age with citizenship (the flows are citizenship x destination, at least
-- var('flow_min_victims') victims each; tests/dbt checks the published columns).

with

protected as (

    select * from {{ ref('indicator_values_protected') }}

),

pairs as (

    select * from {{ ref('coordination_mirror_published') }}

),

hidden_gaps as (

    select sender as ref_area, freq, time_period
    from pairs
    where gap_conf_status = 'D'
    union
    select 'REG' as ref_area, freq, time_period
    from pairs
    where gap_conf_status = 'D'

),

final as (

    select
        protected.indicator_code,
        protected.ref_area,
        protected.time_period,
        protected.freq,
        protected.period_end,
        protected.sex,
        protected.age,
        protected.exploitation_form,
        case when hidden_gaps.ref_area is null then protected.value end as value,
        protected.unit,
        protected.obs_status,
        case
            when hidden_gaps.ref_area is not null and protected.conf_status = 'F' then 'D'
            else protected.conf_status
        end as conf_status,
        protected.n_countries,
        protected.n_expected,
        protected.is_complete_year
    from protected
    left join hidden_gaps
        on protected.indicator_code = 'REF_MIRROR_GAP'
        and hidden_gaps.ref_area = protected.ref_area
        and hidden_gaps.freq = protected.freq
        and hidden_gaps.time_period = protected.time_period

)

select * from final

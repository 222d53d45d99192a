-- Progress of the regional plan (DOMAIN.md §9): one row per target of the plan in force, with
-- its actual value taken from the PUBLISHED indicators only (indicator_values_published, totals:
-- sex, age and form _T), never from figures hidden by disclosure control. A target of aim 2 may
-- rest on the harmonisation index (HARMONISATION_INDEX) or on one policy item (its score: yes 1,
-- partial 0.5, no 0), read from the harmonisation marts (policy facts, published as reported).
--
-- actual    the latest published value at or before the target period, after the baseline
--           period, of the indicator's annual series (freq A); of its rolling four quarters
--           (R4Q) where the indicator has no annual value after the baseline yet. Periods are
--           compared by the quarter they end in (a year ends in its Q4).
-- progress  (actual - baseline) / (target - baseline)   (increase and decrease; null when the
--           target equals the baseline or the actual is hidden)
-- elapsed   (actual period - baseline period) / (target period - baseline period), counted in
--           quarters (for years this is the count in years), clipped to 0..1: the time the data
--           cover, not today's date.
-- status    monitor: none (null). no_data: no published actual after the baseline period.
--           confidential: the actual is hidden (conf_status A or D). maintain: on_track when the
--           actual is within var('plan_maintain_tolerance') (5 %) of the baseline, else
--           off_track. increase / decrease: achieved (progress >= 1), on_track (progress >=
--           elapsed - var('plan_on_track_margin'), 0.10), at_risk (progress >= elapsed -
--           var('plan_at_risk_margin'), 0.30), else off_track. A target equal to its baseline
--           (which the plan's contract refuses for increase and decrease) is achieved when the
--           actual is at or beyond it in the target's direction, else off_track.

with

targets as (

    select * from {{ ref('int_plan_targets_current') }}

),

published as (

    select * from {{ ref('indicator_values_published') }}

),

targets_indexed as (

    select
        *,
        case when length(baseline_period) = 4 then 'A' else 'Q' end as period_kind,
        case
            when length(baseline_period) = 4 then {{ quarter_index(period_year('baseline_period'), 4) }}
            else {{ quarter_index(period_year('baseline_period'), period_quarter('baseline_period')) }}
        end as baseline_index,
        case
            when length(target_period) = 4 then {{ quarter_index(period_year('target_period'), 4) }}
            else {{ quarter_index(period_year('target_period'), period_quarter('target_period')) }}
        end as target_index
    from targets

),

harmonisation as (

    select
        'HARMONISATION_INDEX' as indicator_code,
        ref_area,
        time_period,
        'A' as freq,
        index_value as value,
        obs_status,
        'F' as conf_status,
        {{ quarter_index('year', 4) }} as period_index
    from {{ ref('harmonisation_index') }}
    where index_value is not null

    union all

    select
        item as indicator_code,
        ref_area,
        cast(year as varchar) as time_period,
        'A' as freq,
        score as value,
        obs_status,
        'F' as conf_status,
        {{ quarter_index('year', 4) }} as period_index
    from {{ ref('harmonisation_matrix') }}
    where score is not null

),

series as (

    select * from harmonisation

    union all

    select
        indicator_code,
        ref_area,
        time_period,
        freq,
        value,
        obs_status,
        conf_status,
        {{ quarter_index('year(period_end)', 'quarter(period_end)') }} as period_index
    from published
    where freq in ('A', 'R4Q')
        and sex = '_T'
        and age = '_T'
        and exploitation_form = '_T'

),

candidates as (

    select
        targets_indexed.objective_id,
        targets_indexed.indicator,
        targets_indexed.ref_area,
        series.time_period,
        series.freq,
        series.value,
        series.obs_status,
        series.conf_status,
        series.period_index,
        row_number() over (
            partition by targets_indexed.objective_id, targets_indexed.indicator, targets_indexed.ref_area
            order by case when series.freq = 'A' then 0 else 1 end, series.period_index desc
        ) as preference
    from targets_indexed
    inner join series
        on series.indicator_code = targets_indexed.indicator
        and series.ref_area = targets_indexed.ref_area
        and series.period_index > targets_indexed.baseline_index
        and series.period_index <= targets_indexed.target_index

),

actuals as (

    select * from candidates where preference = 1

),

measured as (

    select
        targets_indexed.*,
        actuals.time_period as actual_period,
        actuals.freq as actual_freq,
        actuals.value as actual_value,
        actuals.obs_status as actual_obs_status,
        actuals.conf_status,
        case
            when targets_indexed.direction in ('increase', 'decrease')
                and targets_indexed.target_value <> targets_indexed.baseline_value
                then (actuals.value - targets_indexed.baseline_value)
                    / (targets_indexed.target_value - targets_indexed.baseline_value)
        end as progress,
        case
            when actuals.period_index is not null
                then greatest(0.0, least(1.0,
                    cast(actuals.period_index - targets_indexed.baseline_index as double)
                    / (targets_indexed.target_index - targets_indexed.baseline_index)))
        end as elapsed
    from targets_indexed
    left join actuals
        on actuals.objective_id = targets_indexed.objective_id
        and actuals.indicator = targets_indexed.indicator
        and actuals.ref_area = targets_indexed.ref_area

),

final as (

    select
        plan_version,
        plan_imported_at,
        plan_is_illustrative,
        objective_id,
        objective_es,
        objective_en,
        objective_fr,
        aim,
        indicator,
        ref_area,
        direction,
        baseline_period,
        baseline_value,
        target_period,
        target_value,
        milestones,
        responsible,
        comment,
        actual_period,
        actual_freq,
        actual_value,
        actual_obs_status,
        conf_status,
        progress,
        elapsed,
        case
            when direction = 'monitor' then null
            when actual_period is null then 'no_data'
            when conf_status <> 'F' then 'confidential'
            when actual_value is null then 'no_data'
            when direction = 'maintain' then
                case
                    when abs(actual_value - baseline_value)
                        <= {{ var('plan_maintain_tolerance') }} * abs(baseline_value) + 1e-9
                        then 'on_track'
                    else 'off_track'
                end
            when target_value = baseline_value then
                case
                    when (direction = 'increase' and actual_value >= target_value)
                        or (direction = 'decrease' and actual_value <= target_value)
                        then 'achieved'
                    else 'off_track'
                end
            when progress >= 1 - 1e-9 then 'achieved'
            when progress >= elapsed - {{ var('plan_on_track_margin') }} - 1e-9 then 'on_track'
            when progress >= elapsed - {{ var('plan_at_risk_margin') }} - 1e-9 then 'at_risk'
            else 'off_track'
        end as status,
        cast({{ var('plan_on_track_margin') }} as double) as rule_on_track_margin,
        cast({{ var('plan_at_risk_margin') }} as double) as rule_at_risk_margin,
        cast({{ var('plan_maintain_tolerance') }} as double) as rule_maintain_tolerance
    from measured

)

select * from final

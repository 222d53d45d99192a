-- marts.coordination_mirror under disclosure control (DOMAIN.md §6): what every outward-facing
-- consumer reads instead of coordination_mirror. Same rows, plus a conf_status per count
-- (sent_conf_status, received_conf_status: F free, A primary, D secondary) and for the gap.
--
-- Cells: each side of a pair per period (the sender's sent_by_sender, the receiver's
-- received_by_receiver). A and the R4Q ending in Q4 are the same four quarters: one cell.
-- Hidden counts are null, never rounded.
--
-- 1. Primary: a pair count from 1 to var('disclosure_min_count') - 1 is hidden (A).
-- 2. Secondary (the same passes as indicator_values_published, disclosure_secondary_passes: a
--    group holding exactly one hidden cell, its margin included, takes the next-smallest
--    published part with it), over these additive groups:
--    * the sent cells of one sender and period against its REF_SENT as published in
--      indicator_values_protected (only when F there; as published); the received cells of one receiver against
--      its REF_RECEIVED. REF_SENT also counts referrals to non-members, to '_U' and to itself:
--      that rest (REF_SENT - the member pairs) is a part of the group too, never published, but
--      it can be computed when every pair is published, so it is a cell of its own here (hidden
--      A when 1 to 4, like any count; it can be picked by the secondary rule). A rest of 0 is no
--      part (assumed known). A part alone in its group (rest 0) equals the published total: it
--      is never picked.
--    * the four quarters of a side of a pair (or of a rest) against its R4Q / A cell: a hidden
--      year whose quarters are all published is their sum, so it takes a quarter with it.
-- 3. The gap (gap_persons, mirror_gap_percent) is hidden (gap_conf_status D) when both sides
--    reported and either is hidden; pair_status becomes 'confidential' when it would tell a hidden side (matched or gap
--    with a side hidden, sender_only with the receiver hidden, receiver_only with the sender
--    hidden).

{%- set min_count = disclosure_min_count() %}
{%- set passes = var('disclosure_max_passes') %}

with

mirror as (

    select * from {{ ref('coordination_mirror') }}

),

indicator_values as (

    select * from {{ ref('indicator_values') }}

),

indicators_published as (

    select * from {{ ref('indicator_values_protected') }}

),

pair_sides as (

    select
        'sent' as side, sender, receiver, time_period, freq, period_end,
        'REF_SENT' as group_code, sender as group_area, sent_by_sender as value
    from mirror
    where sent_by_sender is not null
    union all
    select
        'received' as side, sender, receiver, time_period, freq, period_end,
        'REF_RECEIVED' as group_code, receiver as group_area, received_by_receiver as value
    from mirror
    where received_by_receiver is not null

),

pair_cells as (

    select
        *,
        case when freq = 'Q' then 'Q' else 'W' end as window_kind,
        side || '|' || sender || '>' || receiver as series,
        side || '|' || sender || '>' || receiver || '|' || case when freq = 'Q' then 'Q' else 'W' end
            || '|' || cast(period_end as varchar) as cell_id
    from pair_sides

),

-- REF_SENT / REF_RECEIVED per country and period, with their published status.
margins as (

    select
        indicator_values.indicator_code as group_code,
        indicator_values.ref_area as group_area,
        indicator_values.freq,
        case when indicator_values.freq = 'Q' then 'Q' else 'W' end as window_kind,
        indicator_values.period_end,
        indicator_values.value,
        indicators_published.conf_status = 'F' as margin_published,
        indicator_values.indicator_code || '|' || indicator_values.ref_area || '|'
            || indicator_values.time_period as margin_id
    from indicator_values
    inner join indicators_published
        on indicators_published.indicator_code = indicator_values.indicator_code
        and indicators_published.ref_area = indicator_values.ref_area
        and indicators_published.time_period = indicator_values.time_period
        and indicators_published.sex = indicator_values.sex
        and indicators_published.age = indicator_values.age
        and indicators_published.exploitation_form = indicator_values.exploitation_form
    where indicator_values.indicator_code in ('REF_SENT', 'REF_RECEIVED')
        and indicator_values.ref_area <> 'REG'
        and indicator_values.sex = '_T'
        and indicator_values.age = '_T'
        and indicator_values.exploitation_form = '_T'

),

-- What a country's total holds beyond its member pairs (A and R4Q-Q4 give the same rest).
rest_cells as (

    select distinct
        'rest|' || margins.group_code || '|' || margins.group_area as series,
        margins.group_code,
        margins.group_area,
        margins.window_kind,
        margins.period_end,
        margins.value - coalesce(pairs.value, 0) as value,
        'rest|' || margins.group_code || '|' || margins.group_area || '|' || margins.window_kind
            || '|' || cast(margins.period_end as varchar) as cell_id
    from margins
    left join (
        select group_code, group_area, freq, period_end, sum(value) as value
        from pair_cells
        group by group_code, group_area, freq, period_end
    ) as pairs
        on pairs.group_code = margins.group_code
        and pairs.group_area = margins.group_area
        and pairs.freq = margins.freq
        and pairs.period_end = margins.period_end
    where margins.value - coalesce(pairs.value, 0) > 0

),

counts as materialized (

    select distinct cell_id, series, group_code, group_area, window_kind, period_end, value
    from pair_cells
    union
    select cell_id, series, group_code, group_area, window_kind, period_end, value
    from rest_cells

),

external_groups as (

    select
        margins.margin_id as constraint_id,
        margins.margin_id,
        counts.cell_id as part_id
    from margins
    inner join counts
        on counts.group_code = margins.group_code
        and counts.group_area = margins.group_area
        and counts.window_kind = margins.window_kind
        and counts.period_end = margins.period_end
    where margins.margin_published

),

-- The only part of a group with a published total is that total: never picked.
pinned as (

    select min(part_id) as cell_id
    from external_groups
    group by constraint_id
    having count(*) = 1

),

time_groups as (

    select
        margin.cell_id || '#time' as constraint_id,
        margin.cell_id as margin_id,
        part.cell_id as part_id
    from counts as margin
    inner join counts as part
        on part.series = margin.series
        and part.window_kind = 'Q'
        and {{ disclosure_quarter_in_window('part', 'margin') }}
    where margin.window_kind = 'W'

),

constraint_parts as materialized (

    select
        groups.constraint_id,
        groups.margin_id,
        groups.part_id,
        counts.value as part_value,
        pinned_part.cell_id is null as part_pickable,
        small_series.series is not null as part_preferred,
        -- a published REF_SENT / REF_RECEIVED is no cell of this model: never picked here
        groups.margin_internal and pinned_margin.cell_id is null as margin_pickable
    from (
        select constraint_id, margin_id, part_id, false as margin_internal from external_groups
        union all
        select constraint_id, margin_id, part_id, true as margin_internal from time_groups
    ) as groups
    inner join counts
        on counts.cell_id = groups.part_id
    left join (
        -- series (a side of a pair, or a rest) with a small count in some period: preferred
        -- when a second cell must go, so the pattern stays alike from quarter to quarter
        select distinct series from counts where value >= 1 and value < {{ min_count }}
    ) as small_series
        on small_series.series = counts.series
    left join pinned as pinned_part
        on pinned_part.cell_id = groups.part_id
    left join pinned as pinned_margin
        on pinned_margin.cell_id = groups.margin_id

),

{{ disclosure_secondary_passes(passes, min_count) }},

statuses as (

    select
        mirror.*,
        case
            when mirror.sent_by_sender is null then 'F'
            else coalesce(sent_status.conf_status, 'F')
        end as sent_conf_status,
        case
            when mirror.received_by_receiver is null then 'F'
            else coalesce(received_status.conf_status, 'F')
        end as received_conf_status
    from mirror
    left join secondary_status as sent_status
        on sent_status.cell_id = 'sent|' || mirror.sender || '>' || mirror.receiver || '|'
            || case when mirror.freq = 'Q' then 'Q' else 'W' end || '|' || cast(mirror.period_end as varchar)
    left join secondary_status as received_status
        on received_status.cell_id = 'received|' || mirror.sender || '>' || mirror.receiver || '|'
            || case when mirror.freq = 'Q' then 'Q' else 'W' end || '|' || cast(mirror.period_end as varchar)

),

final as (

    select
        cast(sender as varchar) as sender,
        cast(receiver as varchar) as receiver,
        cast(time_period as varchar) as time_period,
        cast(freq as varchar) as freq,
        cast(period_end as date) as period_end,
        cast(case when sent_conf_status = 'F' then sent_by_sender end as double) as sent_by_sender,
        cast(sent_conf_status as varchar) as sent_conf_status,
        cast(case when received_conf_status = 'F' then received_by_receiver end as double)
            as received_by_receiver,
        cast(received_conf_status as varchar) as received_conf_status,
        cast(sender_reported as boolean) as sender_reported,
        cast(receiver_reported as boolean) as receiver_reported,
        cast(
            case when sent_conf_status = 'F' and received_conf_status = 'F' then gap_persons end
            as double
        ) as gap_persons,
        cast(
            case when sent_conf_status = 'F' and received_conf_status = 'F' then mirror_gap_percent end
            as double
        ) as mirror_gap_percent,
        cast(
            case
                when sender_reported and receiver_reported
                    and (sent_conf_status <> 'F' or received_conf_status <> 'F') then 'D'
                else 'F'
            end
            as varchar
        ) as gap_conf_status,
        cast(
            case
                when pair_status in ('matched', 'gap')
                    and (sent_conf_status <> 'F' or received_conf_status <> 'F') then 'confidential'
                when pair_status = 'sender_only' and received_conf_status <> 'F' then 'confidential'
                when pair_status = 'receiver_only' and sent_conf_status <> 'F' then 'confidential'
                else pair_status
            end
            as varchar
        ) as pair_status,
        cast(obs_status as varchar) as obs_status
    from statuses

)

select * from final

{#
    Disclosure control (DOMAIN.md §6): the pieces marts.indicator_values_published is built from.
    Rules and thresholds are dbt vars (dbt_project.yml, `disclosure_*`); the rule set's name is
    var('disclosure_rule_set') and every export's manifest records it.
#}

{#
    A stable text key of one cell of marts.indicator_values: its unique key, except that a
    calendar year (freq A, '2024') is written as the R4Q ending in its Q4 ('2024-Q4-R4Q'): the
    same four quarters, the same value, so one cell with one status (two rows share the id).
#}
{% macro disclosure_cell_id(relation) -%}
    ({{ relation }}.indicator_code || '|' || {{ relation }}.ref_area || '|'
        || case when {{ relation }}.freq = 'A' then {{ relation }}.time_period || '-Q4-R4Q' else {{ relation }}.time_period end
        || '|' || {{ relation }}.sex || '|' || {{ relation }}.age || '|' || {{ relation }}.exploitation_form)
{%- endmacro %}

{#
    A rolling window other than a calendar year (an R4Q row ending in Q1..Q3). Disclosure control
    publishes one only where every quarter it spans is published: next to its neighbours and the
    years, a window over a hidden quarter gives that quarter away by differences, and where the
    quarters are published it says nothing they do not.
#}
{% macro disclosure_is_window(relation) -%}
    ({{ relation }}.freq = 'R4Q' and month({{ relation }}.period_end) <> 12)
{%- endmacro %}

{#
    A quarter lies in a four-quarter window (a rolling window or a year) that ends with the
    window's period_end: the join condition of every "quarters -> window" rule.
#}
{% macro disclosure_quarter_in_window(quarter, window) -%}
    ({{ quarter }}.period_end <= {{ window }}.period_end
        and {{ quarter }}.period_end > {{ dbt.dateadd('year', -1, window ~ '.period_end') }})
{%- endmacro %}

{#
    The margin a code adds up to within its dimension: '_T' for every code but the total itself,
    and the detail age bands (CTDC-compatible) to their broad group. null for '_T'.
#}
{% macro disclosure_parent_code(dimension, code) -%}
    case
        when {{ code }} = '_T' then null
        {%- if dimension == 'age' %}
        when {{ code }} in ('Y0T8', 'Y9T17') then 'Y0T17'
        when {{ code }} in ('Y18T29', 'Y30T38', 'Y39T47', 'Y_GE48') then 'Y_GE18'
        {%- endif %}
        else '_T'
    end
{%- endmacro %}

{#
    The smallest count that may be published (counts from 1 to this minus 1 are suppressed): the
    stricter var for tables of three or more dimensions that involve children and citizenship.
#}
{% macro disclosure_min_count(child_citizenship=false) -%}
    {%- if child_citizenship -%}
        {{ var('disclosure_min_count_child_citizenship') }}
    {%- else -%}
        {{ var('disclosure_min_count') }}
    {%- endif -%}
{%- endmacro %}

{#
    Which counts every rate, share and ratio rests on (the one place that says it): the ratio is
    suppressed when any of these count cells is hidden, for the same area and period (lag_years 1:
    the same period a year earlier, for year-on-year changes). span: the dimension the ratio runs
    across (every code of it counts, e.g. a share of women rests on F, M, X and _U); 'sex_age':
    both sex and age (the four-way profile rests on every sex x age cell); 'none': the cell with
    the ratio's own breakdown.
#}
{% macro disclosure_ratio_bases() -%}
    {%- set bases = [
        ('VIC_RATE_100K', 'VIC_DETECTED', 'none', 0),
        ('VIC_FEMALE_SHARE', 'VIC_DETECTED', 'sex', 0),
        ('VIC_CHILD_SHARE', 'VIC_DETECTED', 'age', 0),
        ('VIC_SEX_UNKNOWN_SHARE', 'VIC_DETECTED', 'sex', 0),
        ('VIC_AGE_UNKNOWN_SHARE', 'VIC_DETECTED', 'age', 0),
        ('VIC_PROFILE_SHARE', 'VIC_DETECTED', 'sex_age', 0),
        ('VIC_PROFILE_UNKNOWN_SHARE', 'VIC_DETECTED', 'sex_age', 0),
        ('VIC_FORM_SHARE', 'VIC_DETECTED', 'exploitation_form', 0),
        ('VIC_DOMESTIC_SHARE', 'VIC_DETECTED', 'none', 0),
        ('VIC_FOREIGN_SHARE', 'VIC_DETECTED', 'none', 0),
        ('VIC_INTRAREG_SHARE', 'VIC_DETECTED', 'none', 0),
        ('VIC_CITIZENSHIP_UNKNOWN_SHARE', 'VIC_DETECTED', 'none', 0),
        ('VIC_SELF_ID_SHARE', 'VIC_DETECTED', 'none', 0),
        ('VIC_ASSISTED_PER_VICTIM', 'VIC_ASSISTED', 'none', 0),
        ('VIC_ASSISTED_PER_VICTIM', 'VIC_DETECTED', 'none', 0),
        ('VIC_DETECTED_YOY', 'VIC_DETECTED', 'none', 0),
        ('VIC_DETECTED_YOY', 'VIC_DETECTED', 'none', 1),
        ('TIP_PROSECUTED_RATE_100K', 'TIP_PROSECUTED', 'none', 0),
        ('TIP_CONVICTED_RATE_100K', 'TIP_CONVICTED', 'none', 0),
        ('TIP_CONVICTION_RATIO', 'TIP_CONVICTED', 'none', 0),
        ('TIP_CONVICTION_RATIO', 'TIP_PROSECUTED', 'none', 0),
        ('TIP_CONVICTED_PER_100_VIC', 'TIP_CONVICTED', 'none', 0),
        ('TIP_CONVICTED_PER_100_VIC', 'VIC_DETECTED', 'none', 0),
        ('TIP_CONVICTED_FEMALE_SHARE', 'TIP_CONVICTED', 'sex', 0),
        ('TIP_CONVICTED_FOREIGN_SHARE', 'TIP_CONVICTED', 'none', 0),
        ('TIP_PROSECUTED_YOY', 'TIP_PROSECUTED', 'none', 0),
        ('TIP_PROSECUTED_YOY', 'TIP_PROSECUTED', 'none', 1),
        ('TIP_CONVICTED_YOY', 'TIP_CONVICTED', 'none', 0),
        ('TIP_CONVICTED_YOY', 'TIP_CONVICTED', 'none', 1),
        ('SOM_CHILD_SHARE', 'SOM_DETECTED', 'age', 0),
        ('SOM_UNACC_CHILD_SHARE', 'SOM_DETECTED', 'age', 0),
        ('SOM_TIP_NEXUS_SHARE', 'SOM_TIP_VICTIMS', 'none', 0),
        ('SOM_TIP_NEXUS_SHARE', 'SOM_DETECTED', 'none', 0),
        ('SOM_DETECTED_YOY', 'SOM_DETECTED', 'none', 0),
        ('SOM_DETECTED_YOY', 'SOM_DETECTED', 'none', 1),
        ('SOM_CONVICTED_PER_1000_SOM', 'SOM_CONVICTED', 'none', 0),
        ('SOM_CONVICTED_PER_1000_SOM', 'SOM_DETECTED', 'none', 0),
    ] -%}
    select * from (values
    {%- for ratio, base, span, lag in bases %}
        ('{{ ratio }}', '{{ base }}', '{{ span }}', {{ lag }}){{ "," if not loop.last }}
    {%- endfor %}
    ) as ratio_bases (ratio_code, base_code, span, lag_years)
{%- endmacro %}

{#
    Secondary suppression is complete: no additive group (a margin and its parts, see
    disclosure_constraints) holds exactly one hidden cell, margin included (a published margin
    with one hidden part gives the part away by subtraction; a hidden margin with every part
    published gives it away by addition).
#}
{% test disclosure_secondary_complete(model, constraints) %}
    with hidden as (
        select distinct {{ disclosure_cell_id('published') }} as cell_id
        from {{ model }} as published
        where published.conf_status <> 'F'
    ),
    state as (
        select
            c.constraint_id,
            c.margin_id,
            count(distinct hidden_part.cell_id) as hidden_parts,
            max(case when hidden_margin.cell_id is not null then 1 else 0 end) as margin_hidden
        from {{ constraints }} as c
        left join hidden as hidden_part on hidden_part.cell_id = c.part_id
        left join hidden as hidden_margin on hidden_margin.cell_id = c.margin_id
        group by c.constraint_id, c.margin_id
    )
    select * from state where hidden_parts + margin_hidden = 1
{% endtest %}

{#
    A rolling window other than a calendar year is published only where every quarter it spans is
    (disclosure_is_window): the counts of marts.indicator_values_published (a window row of a count
    is there, published, or not at all), and the flows of marts.flows_victims (`full`: the matrix
    before control; a quarter with no victims has no row to show).
#}
{% test disclosure_windows_follow_quarters(model, indicators=none, full=none) %}
    {%- if full %}
    select rolling.origin_area || '>' || rolling.destination_area || '|' || rolling.time_period as cell
    from {{ model }} as rolling
    inner join {{ full }} as quarter
        on quarter.origin_area = rolling.origin_area
        and quarter.destination_area = rolling.destination_area
        and quarter.freq = 'Q'
        and quarter.victims > 0
        and {{ disclosure_quarter_in_window('quarter', 'rolling') }}
    left join {{ model }} as shown
        on shown.origin_area = quarter.origin_area
        and shown.destination_area = quarter.destination_area
        and shown.time_period = quarter.time_period
    where {{ disclosure_is_window('rolling') }}
        and shown.time_period is null
    {%- else %}
    select rolling.indicator_code || '|' || rolling.ref_area || '|' || rolling.time_period || '|'
        || rolling.sex || '|' || rolling.age || '|' || rolling.exploitation_form as cell
    from {{ model }} as rolling
    inner join {{ indicators }} as indicators
        on indicators.indicator_code = rolling.indicator_code
        and indicators.disclosure_rule = 'PRIMARY_SMALL_COUNT'
    left join {{ model }} as quarter
        on quarter.indicator_code = rolling.indicator_code
        and quarter.ref_area = rolling.ref_area
        and quarter.sex = rolling.sex
        and quarter.age = rolling.age
        and quarter.exploitation_form = rolling.exploitation_form
        and quarter.freq = 'Q'
        and {{ disclosure_quarter_in_window('quarter', 'rolling') }}
    where {{ disclosure_is_window('rolling') }}
        and (rolling.conf_status <> 'F' or quarter.conf_status <> 'F')
    {%- endif %}
{% endtest %}

{#
    Cells with the same value are hidden alike, so a hidden value is never published under its
    twin: a year and the R4Q ending in its Q4 (every indicator); a count of the region ('REG')
    that only one member stands behind (n_countries 1) and that member's count.
#}
{% test disclosure_twins_consistent(model, countries, indicators) %}
    with year_twins as (
        select
            'year and R4Q-Q4 differ' as failure,
            a.indicator_code || '|' || a.ref_area || '|' || a.time_period || '|' || a.sex || '|'
                || a.age || '|' || a.exploitation_form as cell
        from {{ model }} as a
        inner join {{ model }} as r
            on r.indicator_code = a.indicator_code and r.ref_area = a.ref_area
            and r.freq = 'R4Q' and r.period_end = a.period_end
            and r.sex = a.sex and r.age = a.age and r.exploitation_form = a.exploitation_form
        where a.freq = 'A'
            and (r.conf_status <> a.conf_status or r.value is distinct from a.value)
    ),
    members_behind as (
        select
            m.indicator_code, m.time_period, m.sex, m.age, m.exploitation_form,
            count(*) as n_rows, min(m.conf_status) as conf_status, max(m.conf_status) as max_status
        from {{ model }} as m
        inner join {{ countries }} as c on c.iso3 = m.ref_area and c.member
        group by m.indicator_code, m.time_period, m.sex, m.age, m.exploitation_form
    ),
    region_twins as (
        select
            'region of one member and the member differ' as failure,
            g.indicator_code || '|REG|' || g.time_period || '|' || g.sex || '|' || g.age || '|'
                || g.exploitation_form as cell
        from {{ model }} as g
        inner join {{ indicators }} as i
            on i.indicator_code = g.indicator_code and i.disclosure_rule = 'PRIMARY_SMALL_COUNT'
        inner join members_behind as m
            on m.indicator_code = g.indicator_code and m.time_period = g.time_period
            and m.sex = g.sex and m.age = g.age and m.exploitation_form = g.exploitation_form
        where g.ref_area = 'REG'
            and g.n_countries = 1
            and m.n_rows = 1
            -- hidden alike (a withheld member, N, stands behind a region hidden as D)
            and (m.conf_status = 'F') <> (g.conf_status = 'F')
    )
    select * from year_twins
    union all
    select * from region_twins
{% endtest %}

{#
    The published coordination mirror (coordination_mirror_published) leaves no hidden pair count
    computable by subtraction, from what an outsider sees:
    * a published REF_SENT (REF_RECEIVED) total whose member pairs hold exactly one hidden count
      and nothing else (the rest: referrals to non-members, '_U' or itself, is 0);
    * a published total with no hidden pair whose rest (total - pairs) is a small count;
    * a published R4Q / A pair count whose quarters hold exactly one hidden count, or a hidden
      one whose quarters are all published.
#}
{% test coordination_secondary_complete(model, mirror, totals, published_totals) %}
    {%- set min_count = disclosure_min_count() %}
    with sides as (
        select
            'REF_SENT' as group_code, m.sender as group_area,
            'sent|' || m.sender || '>' || m.receiver as series,
            m.freq, m.period_end, m.sent_by_sender as raw, p.sent_conf_status <> 'F' as hidden
        from {{ mirror }} as m
        inner join {{ model }} as p
            on p.sender = m.sender and p.receiver = m.receiver and p.time_period = m.time_period
        where m.sent_by_sender is not null
        union all
        select
            'REF_RECEIVED' as group_code, m.receiver as group_area,
            'received|' || m.sender || '>' || m.receiver as series,
            m.freq, m.period_end, m.received_by_receiver as raw,
            p.received_conf_status <> 'F' as hidden
        from {{ mirror }} as m
        inner join {{ model }} as p
            on p.sender = m.sender and p.receiver = m.receiver and p.time_period = m.time_period
        where m.received_by_receiver is not null
    ),
    groups as (
        select
            t.indicator_code as group_code, t.ref_area as group_area, t.time_period, t.freq,
            t.period_end, t.value as total
        from {{ totals }} as t
        inner join {{ published_totals }} as pt
            on pt.indicator_code = t.indicator_code and pt.ref_area = t.ref_area
            and pt.time_period = t.time_period and pt.sex = t.sex and pt.age = t.age
            and pt.exploitation_form = t.exploitation_form
        where t.indicator_code in ('REF_SENT', 'REF_RECEIVED')
            and t.ref_area <> 'REG'
            and t.sex = '_T' and t.age = '_T' and t.exploitation_form = '_T'
            and pt.conf_status = 'F'
    ),
    group_state as (
        select
            g.group_code, g.group_area, g.time_period, g.total,
            coalesce(sum(s.raw), 0) as pairs_sum,
            coalesce(sum(case when s.hidden then 1 else 0 end), 0) as hidden_pairs
        from groups as g
        left join sides as s
            on s.group_code = g.group_code and s.group_area = g.group_area
            and s.freq = g.freq and s.period_end = g.period_end
        group by g.group_code, g.group_area, g.time_period, g.total
    ),
    time_state as (
        select
            w.series, w.freq, w.period_end, w.hidden,
            sum(case when q.hidden then 1 else 0 end) as hidden_quarters
        from sides as w
        inner join sides as q
            on q.series = w.series
            and q.freq = 'Q'
            and {{ disclosure_quarter_in_window('q', 'w') }}
        where w.freq in ('R4Q', 'A')
        group by w.series, w.freq, w.period_end, w.hidden
    )
    select 'one hidden pair under a published total' as failure, group_code || '|' || group_area || '|' || time_period as cell
    from group_state
    where hidden_pairs = 1 and total - pairs_sum = 0
    union all
    select 'small rest computable from a published total', group_code || '|' || group_area || '|' || time_period
    from group_state
    where hidden_pairs = 0 and total - pairs_sum >= 1 and total - pairs_sum < {{ min_count }}
    union all
    select 'one hidden quarter under a published window', series || '|' || freq || '|' || cast(period_end as varchar)
    from time_state
    where not hidden and hidden_quarters = 1
    union all
    select 'a hidden window with its quarters all published', series || '|' || freq || '|' || cast(period_end as varchar)
    from time_state
    where hidden and hidden_quarters = 0
    union all
    select 'small count published', sender || '>' || receiver || '|' || time_period
    from {{ model }}
    where (sent_by_sender >= 1 and sent_by_sender < {{ min_count }})
        or (received_by_receiver >= 1 and received_by_receiver < {{ min_count }})
{% endtest %}

{#
    Secondary suppression as CTEs, for indicator_values_published and coordination_mirror_published:
    given `counts` (cell_id, value: every count cell) and `constraint_parts` (one row per part of
    an additive group: constraint_id, margin_id, part_id, part_value, part_pickable,
    part_preferred, margin_pickable), defines `secondary_status` (cell_id, conf_status: A primary,
    a count from 1 to min_count - 1; D secondary). `repairs`: a relation of cell ids hidden from
    the start as D (the disclosure audit's complementary cells).

    A group holding exactly one hidden cell, its margin included, gives it away (a published
    margin less its published parts; a hidden margin as the sum of its parts), so a published
    pickable part is hidden too: non-zero parts first, then preferred parts (a series with a small
    count in some period: the pattern of hidden cells stays alike from quarter to quarter, as
    DOMAIN.md §6 asks), then the smallest, ties by id; the margin when no part is left and it may
    be picked. Repeated until no group holds one hidden
    cell (`passes` passes, checked by a test). Pass i looks only at the groups that a cell hidden
    in pass i - 1 belongs to, as a part or as the margin: only a newly hidden cell can change a
    group that an earlier pass left with 0 or at least 2 hidden cells.
#}
{% macro disclosure_secondary_passes(passes, min_count, repairs=none, withheld=none) %}
primary_0 as materialized (

    select distinct cell_id
    from counts
    where value >= 1
        and value < {{ min_count }}

),

hidden_0 as (

    select
        cell_id,
        'A' as conf_status
    from primary_0
    {%- if withheld %}
    where cell_id not in (select cell_id from {{ withheld }})
    union all
    -- detail of a small series (disclosure_withheld): no value and no "<5" flag
    select distinct
        counts.cell_id,
        'N' as conf_status
    from counts
    inner join {{ withheld }} as withheld
        on withheld.cell_id = counts.cell_id
    {%- endif %}
    {%- if repairs %}
    union all
    select distinct
        counts.cell_id,
        'D' as conf_status
    from counts
    inner join {{ repairs }} as repairs
        on repairs.cell_id = counts.cell_id
    where counts.cell_id not in (select cell_id from primary_0)
    {%- if withheld %}
        and counts.cell_id not in (select cell_id from {{ withheld }})
    {%- endif %}
    {%- endif %}

),

new_0 as materialized (

    select cell_id from hidden_0

),
{% for i in range(passes) %}
touched_{{ i }} as (

    select constraint_parts.constraint_id
    from constraint_parts
    inner join new_{{ i }}
        on new_{{ i }}.cell_id = constraint_parts.part_id
    union
    select constraint_parts.constraint_id
    from constraint_parts
    inner join new_{{ i }}
        on new_{{ i }}.cell_id = constraint_parts.margin_id

),

state_{{ i }} as materialized (

    select
        constraint_parts.constraint_id,
        constraint_parts.margin_id,
        constraint_parts.margin_pickable,
        constraint_parts.part_id,
        constraint_parts.part_value,
        constraint_parts.part_pickable,
        constraint_parts.part_preferred,
        hidden_part.cell_id is not null as part_hidden,
        hidden_margin.cell_id is not null as margin_hidden
    from constraint_parts
    inner join touched_{{ i }}
        on touched_{{ i }}.constraint_id = constraint_parts.constraint_id
    left join hidden_{{ i }} as hidden_part
        on hidden_part.cell_id = constraint_parts.part_id
    left join hidden_{{ i }} as hidden_margin
        on hidden_margin.cell_id = constraint_parts.margin_id

),

exposed_{{ i }} as materialized (

    select
        constraint_id,
        margin_id,
        bool_or(margin_pickable) as margin_pickable
    from state_{{ i }}
    group by constraint_id, margin_id
    having sum(case when part_hidden then 1 else 0 end)
        + max(case when margin_hidden then 1 else 0 end) = 1

),

candidates_{{ i }} as (

    select
        exposed_{{ i }}.constraint_id,
        state_{{ i }}.part_id as cell_id,
        row_number() over (
            partition by exposed_{{ i }}.constraint_id
            order by
                case when state_{{ i }}.part_value = 0 then 1 else 0 end,
                case when state_{{ i }}.part_preferred then 0 else 1 end,
                state_{{ i }}.part_value,
                state_{{ i }}.part_id
        ) as pick_rank
    from exposed_{{ i }}
    inner join state_{{ i }}
        on state_{{ i }}.constraint_id = exposed_{{ i }}.constraint_id
        and not state_{{ i }}.part_hidden
        and state_{{ i }}.part_pickable

),

picked_{{ i }} as (

    select cell_id from candidates_{{ i }}
    where pick_rank = 1
    union
    select exposed_{{ i }}.margin_id as cell_id
    from exposed_{{ i }}
    where exposed_{{ i }}.margin_pickable
        and not exists (
            select 1 from candidates_{{ i }}
            where candidates_{{ i }}.constraint_id = exposed_{{ i }}.constraint_id
        )

),

new_{{ i + 1 }} as materialized (

    select picked_{{ i }}.cell_id
    from picked_{{ i }}
    where not exists (
        select 1 from hidden_{{ i }}
        where hidden_{{ i }}.cell_id = picked_{{ i }}.cell_id
    )

),

hidden_{{ i + 1 }} as (

    select cell_id, conf_status from hidden_0
    {%- for k in range(1, i + 2) %}
    union all
    select cell_id, 'D' as conf_status from new_{{ k }}
    {%- endfor %}

),
{% endfor %}
secondary_status as (

    select * from hidden_{{ passes }}

)
{% endmacro %}

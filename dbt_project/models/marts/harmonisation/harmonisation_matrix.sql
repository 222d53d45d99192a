-- Where each member's law and policy stand against the international instruments (DOMAIN.md §9,
-- aim 2): member x item x year, with the reference and dates as reported, the score the index
-- uses (yes 1, partial 0.5, no 0; unknown has none: it is shown apart, never as 0), and what the
-- member reported the year before, and the member's index that year. Policy facts, not counts of people: no disclosure control.

with

items as (

    select * from {{ ref('int_policy_items_current') }}

),

scored as (

    select
        *,
        case status
            {% for status, score in var('policy_status_scores').items() -%}
            when '{{ status }}' then cast({{ score }} as double)
            {% endfor -%}
        end as score
    from items

),

final as (

    select
        scored.ref_area,
        scored.year,
        scored.item,
        scored.status,
        scored.score,
        scored.reference,
        scored.item_date as "date",
        scored.valid_until,
        -- the member's harmonisation index that year (as harmonisation_index): beside each item
        -- in the export, so one file says both
        round(avg(scored.score) over (partition by scored.ref_area, scored.year), 4) as index_value,
        previous.status as previous_status,
        previous.year as previous_year,
        previous.status is not null and previous.status <> scored.status as changed,
        scored.obs_status,
        scored.version,
        scored.submission_id,
        scored.is_illustrative
    from scored
    left join scored as previous
        on previous.ref_area = scored.ref_area
        and previous.item = scored.item
        and previous.year = scored.year - 1

)

select * from final

-- The published origin -> destination flows of victims (DOMAIN.md §5 item 6, §6): the flows of
-- internal.flows_victims_full with at least var('flow_min_victims') (5) victims, the UNODC
-- convention; smaller flows and unknown citizenship are not shown, nor the flows the disclosure
-- audit hid (disclosure.repairs: a flow that, with the totals, would give a hidden one away), nor
-- the flows of a destination's small series of detected victims (disclosure_withheld).

with

full_matrix as (

    select * from {{ ref('flows_victims_full') }}

),

final as (

    select
        origin_area,
        destination_area,
        time_period,
        freq,
        period_end,
        victims,
        is_domestic,
        origin_is_member,
        obs_status
    from full_matrix
    where origin_area <> '_U'
        and victims >= {{ var('flow_min_victims') }}
        and 'FLOW|' || origin_area || '|' || destination_area || '|'
            || case when freq = 'A' then time_period || '-Q4-R4Q' else time_period end || '|_T|_T|_T'
            not in (
                select cell_id from {{ source('disclosure', 'repairs') }}
                union all
                select cell_id from {{ ref('disclosure_withheld') }}
            )

)

select * from final

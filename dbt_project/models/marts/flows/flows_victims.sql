-- The published origin -> destination flows of victims (DOMAIN.md §5 item 6, §6): the flows of
-- internal.flows_victims_full with at least var('flow_min_victims') (5) victims, the UNODC
-- convention; smaller flows and unknown citizenship are not shown, nor the flows the disclosure
-- audit hid (disclosure.repairs: a flow that, with the totals, would give a hidden one away), nor
-- the flows of a destination's small series of detected victims (disclosure_withheld). A rolling
-- window other than a calendar year is shown only where every quarter of it that has victims is:
-- next to its neighbours it would give a quarter left out away by differences.

with

full_matrix as (

    select * from {{ ref('flows_victims_full') }}

),

shown as (

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

),

final as (

    select shown.*
    from shown
    where not {{ disclosure_is_window('shown') }}
        or not exists (
            select 1
            from full_matrix as quarter
            where quarter.origin_area = shown.origin_area
                and quarter.destination_area = shown.destination_area
                and quarter.freq = 'Q'
                and quarter.victims > 0
                and {{ disclosure_quarter_in_window('quarter', 'shown') }}
                and not exists (
                    select 1 from shown as shown_quarter
                    where shown_quarter.origin_area = quarter.origin_area
                        and shown_quarter.destination_area = quarter.destination_area
                        and shown_quarter.time_period = quarter.time_period
                )
        )

)

select * from final

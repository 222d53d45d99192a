-- The coordination mirror per pair of members (sender -> receiver) at Q, R4Q and A: what the
-- sender says it sent (REF_SENT, counterpart = receiver) against what the receiver says it
-- received (REF_RECEIVED, counterpart = sender). A side "reported" a quarter when its
-- COORDINATION unit for that quarter exists (no row for the pair then means 0). Windows run over
-- a dense quarter spine, so a quarter nobody reported counts as not reported, never as 0.
-- Only pairs with some activity on either side, in any quarter, are kept.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

expected as (

    select * from {{ ref('int_units_expected_reported') }}

),

countries as (

    select * from {{ ref('countries') }}

),

coordination_units as (

    select
        country,
        period_index,
        obs_status
    from units
    where dataset = 'COORDINATION'

),

flows as (

    select
        case when indicator = 'REF_SENT' then country else counterpart_area end as sender,
        case when indicator = 'REF_SENT' then counterpart_area else country end as receiver,
        period_index,
        indicator,
        sum(value) as persons
    from observations
    where dataset = 'COORDINATION'
        and indicator in ('REF_SENT', 'REF_RECEIVED')
        and counterpart_area not in ('_T', '_Z', '_U')
        and value is not null
    group by
        case when indicator = 'REF_SENT' then country else counterpart_area end,
        case when indicator = 'REF_SENT' then counterpart_area else country end,
        period_index,
        indicator

),

member_pairs as (

    select distinct
        flows.sender,
        flows.receiver
    from flows
    inner join countries as sending
        on sending.iso3 = flows.sender
        and sending.member
    inner join countries as receiving
        on receiving.iso3 = flows.receiver
        and receiving.member
    where flows.sender <> flows.receiver
        and flows.persons > 0

),

quarters as (

    select distinct
        period_index,
        period_year,
        period_quarter
    from expected

),

pair_quarters as (

    select
        member_pairs.sender,
        member_pairs.receiver,
        quarters.period_index,
        quarters.period_year,
        quarters.period_quarter,
        case when sender_unit.country is not null then coalesce(sent.persons, 0) end as sent,
        case when receiver_unit.country is not null then coalesce(received.persons, 0) end as received,
        case when sender_unit.obs_status = 'P' or receiver_unit.obs_status = 'P' then 1 else 0 end as is_provisional
    from member_pairs
    cross join quarters
    left join coordination_units as sender_unit
        on sender_unit.country = member_pairs.sender
        and sender_unit.period_index = quarters.period_index
    left join coordination_units as receiver_unit
        on receiver_unit.country = member_pairs.receiver
        and receiver_unit.period_index = quarters.period_index
    left join flows as sent
        on sent.sender = member_pairs.sender
        and sent.receiver = member_pairs.receiver
        and sent.period_index = quarters.period_index
        and sent.indicator = 'REF_SENT'
    left join flows as received
        on received.sender = member_pairs.sender
        and received.receiver = member_pairs.receiver
        and received.period_index = quarters.period_index
        and received.indicator = 'REF_RECEIVED'

),

rolling as (

    select
        sender,
        receiver,
        period_index,
        period_year,
        period_quarter,
        sum(sent) over four_quarters as sent,
        sum(received) over four_quarters as received,
        count(sent) over four_quarters as quarters_sender_reported,
        count(received) over four_quarters as quarters_receiver_reported,
        max(is_provisional) over four_quarters as is_provisional,
        count(*) over four_quarters as quarters_in_window
    from pair_quarters
    window four_quarters as (
        partition by sender, receiver
        order by period_index
        range between 3 preceding and current row
    )

),

windows as (

    select
        sender, receiver, period_year, period_quarter,
        {{ quarter_label('period_year', 'period_quarter') }} as time_period,
        'Q' as freq,
        sent, received,
        case when sent is not null then 1 else 0 end as quarters_sender_reported,
        case when received is not null then 1 else 0 end as quarters_receiver_reported,
        1 as quarters_needed,
        is_provisional
    from pair_quarters

    union all

    select
        sender, receiver, period_year, period_quarter,
        {{ quarter_label('period_year', 'period_quarter') }} || '-R4Q' as time_period,
        'R4Q' as freq,
        sent, received, quarters_sender_reported, quarters_receiver_reported,
        4 as quarters_needed,
        is_provisional
    from rolling
    where quarters_in_window = 4

    union all

    select
        sender, receiver, period_year, period_quarter,
        cast(period_year as varchar) as time_period,
        'A' as freq,
        sent, received, quarters_sender_reported, quarters_receiver_reported,
        4 as quarters_needed,
        is_provisional
    from rolling
    where quarters_in_window = 4
        and period_quarter = 4

),

final as (

    select
        sender,
        receiver,
        time_period,
        freq,
        period_year,
        period_quarter,
        {{ quarter_end_date('period_year', 'period_quarter') }} as period_end,
        cast(case when quarters_sender_reported = quarters_needed then sent end as double) as sent_by_sender,
        cast(case when quarters_receiver_reported = quarters_needed then received end as double) as received_by_receiver,
        quarters_sender_reported = quarters_needed as sender_reported,
        quarters_receiver_reported = quarters_needed as receiver_reported,
        case when is_provisional = 1 then 'P' else 'A' end as obs_status
    from windows
    where quarters_sender_reported > 0
        or quarters_receiver_reported > 0

)

select * from final

-- The coordination mirror (DOMAIN.md §5 item 12): per pair of members and period (Q, R4Q, A),
-- what the sender reports as sent against what the receiver reports as received, the gap
-- |sent - received| / max(sent, received), and the pairs where only one side reported the flow.

with

pairs as (

    select * from {{ ref('int_coordination_pairs_windowed') }}

),

final as (

    select
        cast(sender as varchar) as sender,
        cast(receiver as varchar) as receiver,
        cast(time_period as varchar) as time_period,
        cast(freq as varchar) as freq,
        cast(period_end as date) as period_end,
        cast(sent_by_sender as double) as sent_by_sender,
        cast(received_by_receiver as double) as received_by_receiver,
        cast(sender_reported as boolean) as sender_reported,
        cast(receiver_reported as boolean) as receiver_reported,
        cast(
            case when sender_reported and receiver_reported then abs(sent_by_sender - received_by_receiver) end
            as double
        ) as gap_persons,
        cast(
            case
                when sender_reported and receiver_reported and greatest(sent_by_sender, received_by_receiver) > 0
                    then abs(sent_by_sender - received_by_receiver) * 100.0 / greatest(sent_by_sender, received_by_receiver)
            end
            as double
        ) as mirror_gap_percent,
        cast(
            case
                when coalesce(sent_by_sender, 0) > 0 and coalesce(received_by_receiver, 0) = 0 then 'sender_only'
                when coalesce(received_by_receiver, 0) > 0 and coalesce(sent_by_sender, 0) = 0 then 'receiver_only'
                when not (sender_reported and receiver_reported) then 'incomplete'
                when sent_by_sender = received_by_receiver then 'matched'
                else 'gap'
            end
            as varchar
        ) as pair_status,
        cast(obs_status as varchar) as obs_status
    from pairs

)

select * from final

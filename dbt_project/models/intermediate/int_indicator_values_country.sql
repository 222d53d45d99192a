-- Every indicator value per country in one shape (the country rows of marts.indicator_values and
-- the parts its regional rows sum): victims (int_victim_indicators_windowed), the other families
-- (int_indicators_windowed) and REF_MIRROR_GAP per sending country, which is a ratio of sums over
-- its pairs: sum |sent - received| / sum max(sent, received), for the pairs where both sides
-- reported every quarter of the window. is_complete_year (A rows only; null for Q and R4Q): every
-- quarter the year rests on is accepted.

with

victim_indicators as (

    select * from {{ ref('int_victim_indicators_windowed') }}

),

other_indicators as (

    select * from {{ ref('int_indicators_windowed') }}

),

mirror_pairs as (

    select * from {{ ref('int_coordination_pairs_windowed') }}

),

mirror_gap as (

    select
        'REF_MIRROR_GAP' as indicator_code,
        sender as ref_area,
        time_period,
        freq,
        period_end,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        'PERCENT' as unit,
        sum(abs(sent_by_sender - received_by_receiver)) as numerator,
        sum(greatest(sent_by_sender, received_by_receiver)) as denominator,
        cast(100 as double) as multiplier,
        {{ combined_obs_status('obs_status') }} as obs_status,
        case when freq = 'A' then bool_and(obs_status = 'A') end as is_complete_year
    from mirror_pairs
    where sender_reported
        and receiver_reported
    group by
        sender,
        time_period,
        freq,
        period_end

),

final as (

    select
        indicator_code, ref_area, time_period, freq, period_end, sex, age, exploitation_form,
        unit, numerator, denominator, multiplier, value, obs_status, is_complete_year
    from victim_indicators

    union all

    select
        indicator_code, ref_area, time_period, freq, period_end, sex, age, exploitation_form,
        unit, numerator, denominator, multiplier, value, obs_status, is_complete_year
    from other_indicators

    union all

    select
        indicator_code, ref_area, time_period, freq, period_end, sex, age, exploitation_form,
        unit, numerator, denominator, multiplier,
        {{ indicator_value('numerator', 'denominator', 'multiplier') }} as value,
        obs_status,
        is_complete_year
    from mirror_gap

)

select * from final

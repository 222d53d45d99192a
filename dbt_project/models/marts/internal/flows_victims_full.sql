-- The full origin -> destination matrix of victims (DOMAIN.md §5 item 6): citizenship -> country
-- of detection, at Q, R4Q and A, every cell including small ones and unknown citizenship. Internal
-- (schema `internal`, never published); marts.flows_victims applies the >= 5 rule.
-- A destination's window needs its TIP_VICTIMS unit in every quarter of it; a citizenship the unit
-- does not list counts as 0 in that quarter.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

units as (

    select * from {{ ref('int_units_latest_selected') }}

),

countries as (

    select * from {{ ref('countries') }}

),

victim_units as (

    select
        country as destination_area,
        period_year,
        period_quarter,
        period_index,
        obs_status
    from units
    where dataset = 'TIP_VICTIMS'

),

flow_cells as (

    select
        citizenship as origin_area,
        country as destination_area,
        period_index,
        cast(value as double) as victims
    from observations
    where dataset = 'TIP_VICTIMS'
        and indicator = 'VIC_DETECTED'
        and sex = '_T'
        and age = '_T'
        and exploitation_form = '_T'
        and identification_channel in ('_T', '_Z')
        and citizenship not in ('_T', '_Z')
        and value is not null

),

unit_windows as (

    select
        destination_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        count(*) over four_quarters as quarters_in_window,
        max(case when obs_status = 'P' then 1 else 0 end) over four_quarters as is_provisional
    from victim_units
    window four_quarters as (
        partition by destination_area
        order by period_index
        range between 3 preceding and current row
    )

),

windows as (

    select
        destination_area,
        period_year,
        period_quarter,
        period_index as last_index,
        period_index as first_index,
        {{ quarter_label('period_year', 'period_quarter') }} as time_period,
        'Q' as freq,
        obs_status
    from unit_windows

    union all

    select
        destination_area,
        period_year,
        period_quarter,
        period_index as last_index,
        period_index - 3 as first_index,
        {{ quarter_label('period_year', 'period_quarter') }} || '-R4Q' as time_period,
        'R4Q' as freq,
        case when is_provisional = 1 then 'P' else 'A' end as obs_status
    from unit_windows
    where quarters_in_window = 4

    union all

    select
        destination_area,
        period_year,
        period_quarter,
        period_index as last_index,
        period_index - 3 as first_index,
        cast(period_year as varchar) as time_period,
        'A' as freq,
        case when is_provisional = 1 then 'P' else 'A' end as obs_status
    from unit_windows
    where quarters_in_window = 4
        and period_quarter = 4

),

summed as (

    select
        flow_cells.origin_area,
        windows.destination_area,
        windows.time_period,
        windows.freq,
        windows.period_year,
        windows.period_quarter,
        windows.obs_status,
        sum(flow_cells.victims) as victims
    from windows
    inner join flow_cells
        on flow_cells.destination_area = windows.destination_area
        and flow_cells.period_index between windows.first_index and windows.last_index
    group by
        flow_cells.origin_area,
        windows.destination_area,
        windows.time_period,
        windows.freq,
        windows.period_year,
        windows.period_quarter,
        windows.obs_status

),

final as (

    select
        cast(summed.origin_area as varchar) as origin_area,
        cast(summed.destination_area as varchar) as destination_area,
        cast(summed.time_period as varchar) as time_period,
        cast(summed.freq as varchar) as freq,
        cast({{ quarter_end_date('summed.period_year', 'summed.period_quarter') }} as date) as period_end,
        cast(summed.victims as double) as victims,
        cast(summed.origin_area = summed.destination_area as boolean) as is_domestic,
        cast(coalesce(origin.member, false) as boolean) as origin_is_member,
        cast(summed.obs_status as varchar) as obs_status
    from summed
    left join countries as origin
        on origin.iso3 = summed.origin_area

)

select * from final
